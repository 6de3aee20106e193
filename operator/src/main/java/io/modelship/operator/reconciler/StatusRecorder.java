package io.modelship.operator.reconciler;

import static io.modelship.operator.reconciler.Conditions.ARTIFACT_RESOLVED;
import static io.modelship.operator.reconciler.Conditions.AUTOSCALING;
import static io.modelship.operator.reconciler.Conditions.FALSE;
import static io.modelship.operator.reconciler.Conditions.READY;
import static io.modelship.operator.reconciler.Conditions.TRUE;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.events.EventRecorder;
import io.modelship.operator.rollout.Transition;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a pass's outcome where people look: Events for what happened, and the status, patched only when it
 * changed (a pass that changes nothing writes nothing). A decision is recorded before the cluster is changed,
 * so a restarted operator resumes from it.
 */
final class StatusRecorder {
  /** Ready=False reasons a person must act on; the others are just the way there. */
  static final Set<String> WARNING_REASONS =
      Set.of("InvalidSpec", "FetchFailed", "CrashLoop", "PodsNotCreated", "Unschedulable", "ApiRefused",
          "SourceUnresolved");
  private static final Logger log = LoggerFactory.getLogger(StatusRecorder.class);

  private StatusRecorder() {}

  static void record(ModelDeployment mdep, Context<ModelDeployment> context, ModelDeploymentStatus previous,
      ModelDeploymentStatus status, List<Transition.Note> notes, EventRecorder events) {
    for (var note : notes) {
      if (note.warning()) {
        events.warning(mdep, note.reason(), note.message());
      } else {
        events.normal(mdep, note.reason(), note.message());
      }
    }
    conditionEvents(mdep, previous, status, events);
    if (previous.getPhase() != status.getPhase()) {
      log.info("{}/{}: phase {} -> {}", mdep.getMetadata().getNamespace(), mdep.getMetadata().getName(),
          previous.getPhase(), status.getPhase());
    }
    var mapper = Serialization.jsonMapper();
    if (mapper.valueToTree(status).equals(mapper.valueToTree(previous))) {
      return;
    }
    PrimaryUpdateAndCacheUtils.patchStatusAndCacheResource(mdep, context, m -> {
      m.setStatus(status);
      return m;
    });
  }

  /**
   * A Warning when Ready turns False for a reason someone must act on, or the autoscaler cannot scale; a Normal event
   * when the artifact checks out.
   */
  private static void conditionEvents(
      ModelDeployment mdep, ModelDeploymentStatus previous, ModelDeploymentStatus status, EventRecorder events) {
    for (var condition : status.getConditions()) {
      if (!Conditions.changed(previous.getConditions(), condition)) {
        continue;
      }
      boolean ready = READY.equals(condition.getType());
      if (ready && FALSE.equals(condition.getStatus()) && WARNING_REASONS.contains(condition.getReason())) {
        events.warning(mdep, condition.getReason(), condition.getMessage());
      } else if (AUTOSCALING.equals(condition.getType()) && FALSE.equals(condition.getStatus())) {
        events.warning(mdep, "AutoscalingInactive", condition.getReason() + ": " + condition.getMessage());
      } else if (TRUE.equals(condition.getStatus()) && ARTIFACT_RESOLVED.equals(condition.getType())
          && "ArtifactVerified".equals(condition.getReason())
          && !"ArtifactVerified".equals(Conditions.find(previous.getConditions(), ARTIFACT_RESOLVED)
              .map(c -> c.getReason()).orElse(null))) {
        events.normal(mdep, condition.getReason(), condition.getMessage());
      }
    }
  }
}
