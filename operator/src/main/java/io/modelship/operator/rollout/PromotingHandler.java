package io.modelship.operator.rollout;

import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.revision.ObservedRevision;
import io.modelship.operator.rollout.RolloutView.Command;
import java.time.Duration;
import java.time.Instant;

/** The canary grows to full size, the stable revision shrinks as canary pods become ready, then they swap roles. */
final class PromotingHandler implements PhaseHandler {

  @Override
  public Transition next(RolloutView v) {
    CanaryStatus canary = RevisionStatuses.canaryCopy(v);
    if (!canary.getRevision().equals(v.target()) || v.has(Command.ABORT)) {
      return Rollbacks.rollBack(v, canary, Outcome.Aborted, v.has(Command.ABORT) ? "Aborted" : "Superseded",
          v.has(Command.ABORT) ? "aborted by the modelship.io/abort annotation" : "the spec now asks for revision " + v.target());
    }
    int n = v.settings().replicas();
    int ready = v.canary().map(ObservedRevision::readyReplicas).orElse(0);
    if (ready >= n) {
      var t = new Transition(Phase.Stable, "Promoted", "revision %s serves all traffic with %d/%d pods ready".formatted(canary.getRevision(), ready, n));
      t.stable = RevisionStatuses.of(v, canary.getRevision(), v.canary());
      t.canary = null;
      t.failedRevision = null;
      t.ended = Rollbacks.ended(v, t.stable, Outcome.Promoted,
          canary.getPromotedBecause() != null ? canary.getPromotedBecause() : "every step passed");
      return t.note(false, "Promoted", "revision %s promoted to stable; revision %s removed"
          .formatted(canary.getRevision(), v.stable().map(ObservedRevision::hash).orElse("-")));
    }
    Duration waited = Duration.between(Instant.parse(canary.getStepStartedAt()), v.now());
    if (waited.compareTo(v.settings().progressDeadline()) > 0) {
      return Rollbacks.rollBack(v, canary, Outcome.RolledBack, "ProgressDeadlineExceeded",
          "promotion did not reach %d ready pods in %s (%d ready)".formatted(n, ProgressingHandler.human(v.settings().progressDeadline()), ready));
    }
    return ProgressingHandler.stay(v, canary, Phase.Promoting, "Promoting",
        "revision %s: %d/%d pods ready for promotion".formatted(canary.getRevision(), ready, n));
  }
}
