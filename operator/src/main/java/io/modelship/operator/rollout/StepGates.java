package io.modelship.operator.rollout;

import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A reached step, however the canary runs (its own pods, or in place): the gates are evaluated when due, failures
 * counted against failureLimit, and once the pause is over and a whole window at this weight passed, the canary
 * moves to the next step or is promoted. Gates that never pass roll it back after the progress deadline.
 */
final class StepGates {
  /** Records a decision that keeps the canary, as the caller's kind of canary records it. */
  interface Stay {
    Transition stay(RolloutView v, CanaryStatus canary, Phase phase, String reason, String message);
  }

  private StepGates() {}

  /**
   * @param weight the weight the step asks
   * @param share the share traffic really has now, in words
   * @param reachedAt when the step was reached, or null if it is reached now
   */
  static Transition judge(RolloutView v, CanaryStatus canary, int step, int weight, String share, Instant reachedAt,
      Stay stay) {
    var settings = v.settings();
    if (reachedAt == null) {
      // The pause and the gates count from here: traffic at this step's weight starts now, not when it was asked.
      reachedAt = v.now();
      canary.setStepReachedAt(reachedAt.toString());
    }

    if (analysisDue(canary, v.now(), settings.analysisInterval())) {
      List<GateResultStatus> results = v.analysis().get();
      canary.setAnalysis(results);
      boolean failed = results.stream().anyMatch(r -> r.getVerdict() == Verdict.Fail);
      boolean allPass = !results.isEmpty() && results.stream().allMatch(r -> r.getVerdict() == Verdict.Pass);
      int failures = failed ? canary.getConsecutiveFailures() + 1 : allPass ? 0 : canary.getConsecutiveFailures();
      canary.setConsecutiveFailures(failures);
      var plain = results.stream().filter(GateResultStatus::decisiveFailure).toList();
      if (!plain.isEmpty()) {
        // Waiting for failureLimit windows would only send more requests to a canary that plainly fails them.
        return Rollbacks.rollBack(v, canary, Outcome.RolledBack, "GateFailed",
            "a decisive failure, rolled back without waiting for failureLimit (%d): %s"
                .formatted(settings.failureLimit(), failures(plain)));
      }
      if (failures >= settings.failureLimit()) {
        return Rollbacks.rollBack(v, canary, Outcome.RolledBack, "GateFailed",
            "%d failed evaluations in a row (failureLimit %d): %s".formatted(failures, settings.failureLimit(), failures(results)));
      }
      if (failed) {
        var t = stay.stay(v, canary, Phase.Progressing, "GateFailed",
            "step %d, %s: %s (%d of %d failures before rollback)".formatted(step, share, failures(results), failures, settings.failureLimit()));
        return t.note(true, "GateFailed", t.message);
      }
    }

    boolean pauseOver = Duration.between(reachedAt, v.now()).compareTo(settings.pause(step)) >= 0;
    // A pass counts only from an evaluation whose whole window ran at this step's weight.
    boolean measuredHere = !canary.getAnalysis().isEmpty() && canary.getAnalysis().get(0).getAt() != null
        && Duration.between(reachedAt, Instant.parse(canary.getAnalysis().get(0).getAt())).compareTo(settings.analysisInterval()) >= 0;
    boolean gatesPass = measuredHere && canary.getAnalysis().stream().allMatch(r -> r.getVerdict() == Verdict.Pass);
    // At the last step the stable revision has no traffic left to compare with: not failing is enough.
    if (pauseOver && (gatesPass || (settings.isLastStep(step) && canary.getConsecutiveFailures() == 0))) {
      if (settings.isLastStep(step)) {
        return ProgressingHandler.promoting(v, canary, "every step passed");
      }
      canary.setStep(step + 1);
      canary.setStepStartedAt(v.now().toString());
      canary.setStepReachedAt(null);
      int next = settings.step(step + 1).getWeight();
      // In place, each pod splits its own requests: the weights are exact.
      boolean inPlace = canary.getHost() != null;
      int from = inPlace ? weight : TrafficSplit.planned(settings, step);
      int to = inPlace ? next : TrafficSplit.planned(settings, step + 1);
      String asked = from == weight && to == next ? "" : " (the steps ask %d%% -> %d%%; service mode splits by ready pods)".formatted(weight, next);
      var t = stay.stay(v, canary, Phase.Progressing, "StepAdvanced",
          "step %d passed; step %d gives the canary %d%% of traffic%s".formatted(step, step + 1, to, asked));
      return t.note(false, "StepAdvanced", "revision %s: canary traffic %d%% -> %d%%%s".formatted(canary.getRevision(), from, to, asked));
    }
    Duration budget = settings.pause(step).plus(settings.progressDeadline());
    if (Duration.between(reachedAt, v.now()).compareTo(budget) > 0) {
      // Gates that never pass (too little traffic, say) must not hold a canary for ever.
      return Rollbacks.rollBack(v, canary, Outcome.RolledBack, "ProgressDeadlineExceeded",
          "step %d, %s, was reached %s ago but its gates never passed (%s)".formatted(step, share,
              ProgressingHandler.human(Duration.between(reachedAt, v.now())),
              canary.getAnalysis().isEmpty() ? "not evaluated" : verdicts(canary.getAnalysis())));
    }
    String waitingFor = !gatesPass
        ? "gates: " + (!measuredHere ? "no full window at this weight yet" : verdicts(canary.getAnalysis()))
        : "pause, %s left".formatted(ProgressingHandler.human(settings.pause(step).minus(Duration.between(reachedAt, v.now()))));
    return stay.stay(v, canary, Phase.Progressing, "StepInProgress",
        "step %d reached, %s; waiting for %s".formatted(step, share, waitingFor));
  }

  private static boolean analysisDue(CanaryStatus canary, Instant now, Duration interval) {
    return canary.getAnalysis().isEmpty()
        || canary.getAnalysis().get(0).getAt() == null
        || Duration.between(Instant.parse(canary.getAnalysis().get(0).getAt()), now).compareTo(interval) >= 0;
  }

  private static String failures(List<GateResultStatus> results) {
    return results.stream().filter(r -> r.getVerdict() == Verdict.Fail)
        .map(r -> r.getGate() + ": " + r.getMessage()).collect(Collectors.joining("; "));
  }

  static String verdicts(List<GateResultStatus> results) {
    return results.stream().map(r -> r.getGate() + " " + r.getVerdict()).collect(Collectors.joining(", "));
  }
}
