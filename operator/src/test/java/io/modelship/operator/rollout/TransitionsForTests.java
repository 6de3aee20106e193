package io.modelship.operator.rollout;

import io.modelship.operator.api.status.Phase;

/** Decisions made by hand, for tests of what is built from a decision (Transition's constructor is package-private). */
public final class TransitionsForTests {
  private TransitionsForTests() {}

  public static Transition of(Phase phase, String reason, String message) {
    return new Transition(phase, reason, message);
  }
}
