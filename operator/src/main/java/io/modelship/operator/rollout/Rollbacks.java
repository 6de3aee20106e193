package io.modelship.operator.rollout;

import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.HistoryEntry;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.api.status.RevisionStatus;

/** The decision shared by every way a rollout can end: how it ended goes into history. */
final class Rollbacks {
  private Rollbacks() {}

  /** Traffic goes back to stable at once; the canary is remembered so it is not tried again. */
  static Transition rollBack(RolloutView v, CanaryStatus canary, Outcome outcome, String reason, String message) {
    var t = new Transition(Phase.RollingBack, reason, message);
    t.stable = RevisionStatuses.stable(v);
    t.canary = null;
    t.failedRevision = canary.getRevision();
    t.ended = ended(v, canary, outcome, reason + ": " + message);
    return t.note(outcome == Outcome.RolledBack, outcome == Outcome.Aborted ? "Aborted" : "RollingBack",
        "revision %s: %s".formatted(canary.getRevision(), message));
  }

  static HistoryEntry ended(RolloutView v, RevisionStatus revision, Outcome outcome, String reason) {
    var entry = new HistoryEntry();
    entry.setRevision(revision.getRevision());
    entry.setModelVersion(revision.getModelVersion());
    entry.setOutcome(outcome);
    entry.setReason(reason);
    entry.setAt(v.now().toString());
    return entry;
  }
}
