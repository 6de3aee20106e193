package io.modelship.operator.rollout;

import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.HistoryEntry;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.api.status.RevisionStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * A phase handler's decision: the phase and revisions to record, why, and what to tell the user. It is written
 * to status before anything in the cluster is changed, and everything done afterwards derives from it.
 */
public final class Transition {
  /** An Event to record, and whether it is a warning. */
  public record Note(boolean warning, String reason, String message) {}

  public Phase phase;
  public RevisionStatus stable;
  public CanaryStatus canary;
  public String failedRevision;
  public HistoryEntry ended;
  /** CamelCase reason and human message for the Progressing/Ready conditions. */
  public String reason;
  public String message;
  public final List<Note> notes = new ArrayList<>();

  Transition(Phase phase, String reason, String message) {
    this.phase = phase;
    this.reason = reason;
    this.message = message;
  }

  Transition note(boolean warning, String reason, String message) {
    notes.add(new Note(warning, reason, message));
    return this;
  }
}
