package io.modelship.operator.rollout;

/** Decides, for one phase, what comes next. Pure: it reads the view and returns a decision, nothing else. */
@FunctionalInterface
public interface PhaseHandler {
  Transition next(RolloutView view);
}
