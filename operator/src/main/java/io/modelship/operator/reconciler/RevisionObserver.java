package io.modelship.operator.reconciler;

import static io.modelship.operator.api.CrdConstants.LABEL_REVISION;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.RevisionStatus;
import io.modelship.operator.revision.ObservedRevision;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The first step of a pass: what the informer caches hold of a ModelDeployment's revisions and owned objects.
 * It only reads caches, never the API server, so observing is free however often a pass runs.
 */
final class RevisionObserver {
  private RevisionObserver() {}

  /** Whether any pod of {@code revision} is still in the cache, its Deployment deleted or not. */
  static boolean hasPods(Context<ModelDeployment> context, String revision) {
    return context.getSecondaryResources(Pod.class).stream()
        .anyMatch(p -> p.getMetadata().getLabels() != null
            && revision.equals(p.getMetadata().getLabels().get(LABEL_REVISION)));
  }

  /** Live revisions, keyed by revision hash. */
  static Map<String, ObservedRevision> revisions(Context<ModelDeployment> context) {
    Map<String, List<Pod>> podsByRevision =
        context.getSecondaryResources(Pod.class).stream()
            .filter(p -> p.getMetadata().getLabels().containsKey(LABEL_REVISION))
            .collect(Collectors.groupingBy(p -> p.getMetadata().getLabels().get(LABEL_REVISION)));
    return context.getSecondaryResources(Deployment.class).stream()
        .filter(d -> d.getMetadata().getLabels() != null && d.getMetadata().getLabels().containsKey(LABEL_REVISION))
        .map(d -> {
          String hash = d.getMetadata().getLabels().get(LABEL_REVISION);
          return new ObservedRevision(hash, d, podsByRevision.getOrDefault(hash, List.of()));
        })
        .collect(Collectors.toMap(ObservedRevision::hash, Function.identity(), (a, b) -> a,
            java.util.HashMap::new));
  }

  /**
   * Adds the revisions that status says run in place, in their host's pods (docs/pod-contract.md), under their
   * own names: a stable or canary revision whose {@code host} is set is observed as that host's Deployment and pods.
   */
  static void hosted(Map<String, ObservedRevision> observed, ModelDeploymentStatus previous) {
    for (RevisionStatus rs : new RevisionStatus[] {previous.getStable(), previous.getCanary()}) {
      if (rs != null && rs.getHost() != null && !observed.containsKey(rs.getRevision())
          && observed.containsKey(rs.getHost())) {
        observed.put(rs.getRevision(), ObservedRevision.hostedBy(rs.getRevision(), observed.get(rs.getHost())));
      }
    }
  }

  /** An owned object of {@code type} by name, from its informer's cache. */
  static <T extends HasMetadata> Optional<T> owned(Context<ModelDeployment> context, Class<T> type, String name) {
    return context.getSecondaryResources(type).stream()
        .filter(r -> name.equals(r.getMetadata().getName()))
        .findFirst();
  }
}
