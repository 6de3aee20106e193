package io.modelship.operator.events;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.modelship.operator.api.ModelDeployment;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records Kubernetes Events on a ModelDeployment so `kubectl describe mdep` tells the story. Called only on
 * transitions, never on every reconcile, so a quiet system stays quiet. A failure to record is logged and
 * swallowed: an Event is never worth failing a reconcile for.
 */
public class EventRecorder {
  public static final String COMPONENT = "modelship-operator";
  private static final Logger log = LoggerFactory.getLogger(EventRecorder.class);

  private final KubernetesClient client;
  private final Clock clock;

  public EventRecorder(KubernetesClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  public void normal(ModelDeployment mdep, String reason, String message) {
    record(mdep, "Normal", reason, message);
  }

  public void warning(ModelDeployment mdep, String reason, String message) {
    record(mdep, "Warning", reason, message);
  }

  private void record(ModelDeployment mdep, String type, String reason, String message) {
    String now = Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
    String ns = mdep.getMetadata().getNamespace();
    var event =
        new EventBuilder()
            .withNewMetadata()
            .withName(mdep.getMetadata().getName() + "." + UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT))
            .withNamespace(ns)
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(mdep.getApiVersion())
                    .withKind(mdep.getKind())
                    .withName(mdep.getMetadata().getName())
                    .withNamespace(ns)
                    .withUid(mdep.getMetadata().getUid())
                    .withResourceVersion(mdep.getMetadata().getResourceVersion())
                    .build())
            .withType(type)
            .withReason(reason)
            .withMessage(message)
            .withFirstTimestamp(now)
            .withLastTimestamp(now)
            .withCount(1)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent(COMPONENT)
            .build();
    try {
      client.v1().events().inNamespace(ns).resource(event).create();
      log.info("event {} {} on {}/{}: {}", type, reason, ns, mdep.getMetadata().getName(), message);
    } catch (KubernetesClientException e) {
      log.warn("could not record event {} on {}/{}: {}", reason, ns, mdep.getMetadata().getName(), e.getMessage());
    }
  }
}
