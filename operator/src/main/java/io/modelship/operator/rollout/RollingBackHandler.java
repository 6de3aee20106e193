package io.modelship.operator.rollout;

import io.modelship.operator.api.status.Phase;
import io.modelship.operator.revision.ObservedRevision;

/** The canary is gone; the stable revision grows back to full size, then the ModelDeployment is Degraded. */
final class RollingBackHandler implements PhaseHandler {

  @Override
  public Transition next(RolloutView v) {
    var stable = v.stable();
    boolean restored = stable.map(s -> s.readyReplicas() >= v.settings().replicas()).orElse(false);
    String why = v.previous().getHistory().isEmpty() ? "rolled back" : v.previous().getHistory().get(0).getReason();
    var t = new Transition(restored ? Phase.Degraded : Phase.RollingBack, "RolledBack",
        "revision %s was rolled back (%s); revision %s %s".formatted(v.previous().getFailedRevision(), why,
            stable.map(ObservedRevision::hash).orElse("-"),
            restored ? "serves all traffic" : "is scaling back to full size"));
    t.stable = RevisionStatuses.stable(v);
    t.failedRevision = v.previous().getFailedRevision();
    return t;
  }
}
