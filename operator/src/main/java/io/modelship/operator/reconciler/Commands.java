package io.modelship.operator.reconciler;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.rollout.RolloutView.Command;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control annotations a user sets with kubectl annotate (promote, abort, retry): read at the start of a pass,
 * consumed at its end, so each acts exactly once.
 */
final class Commands {
  private static final Logger log = LoggerFactory.getLogger(Commands.class);

  private Commands() {}

  static Set<Command> of(ModelDeployment mdep) {
    var annotations = mdep.getMetadata().getAnnotations();
    var commands = EnumSet.noneOf(Command.class);
    if (annotations != null) {
      for (Command c : Command.values()) {
        if (annotations.containsKey(c.annotation)) {
          commands.add(c);
        }
      }
    }
    return commands;
  }

  static void consume(KubernetesClient client, ModelDeployment mdep, Set<Command> commands) {
    if (commands.isEmpty()) {
      return;
    }
    // JSON patch "remove" without a resourceVersion: it cannot conflict with the user's own edits.
    String patch = commands.stream()
        .map(c -> "{\"op\":\"remove\",\"path\":\"/metadata/annotations/"
            + c.annotation.replace("~", "~0").replace("/", "~1") + "\"}")
        .collect(Collectors.joining(",", "[", "]"));
    try {
      client.resources(ModelDeployment.class).inNamespace(mdep.getMetadata().getNamespace())
          .withName(mdep.getMetadata().getName())
          .patch(PatchContext.of(PatchType.JSON), patch);
    } catch (KubernetesClientException e) {
      // Already removed by someone else: nothing left to consume.
      log.debug("could not remove command annotations from {}: {}", mdep.getMetadata().getName(), e.getMessage());
    }
  }
}
