package io.modelship.operator.rollout;

import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.revision.ObservedRevision;
import io.modelship.operator.rollout.RolloutView.Command;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Progressing and Paused: a canary moves through its steps. A step is reached when the canary has the ready
 * pods its weight asks for; it is passed when its pause has elapsed and the latest gate evaluation passed.
 * Failed gates (failureLimit in a row), a missed progress deadline, a crash loop, a failed fetch or GPUs that
 * never come roll back. Too little traffic is Inconclusive: it neither advances nor rolls back.
 */
final class ProgressingHandler implements PhaseHandler {

  @Override
  public Transition next(RolloutView v) {
    CanaryStatus canary = RevisionStatuses.canaryCopy(v);
    var settings = v.settings();

    if (!canary.getRevision().equals(v.target())) {
      // The spec moved on mid-rollout: this canary is no longer wanted.
      return Rollbacks.rollBack(v, canary, Outcome.Aborted, "Superseded",
          "the spec now asks for revision %s".formatted(v.target()));
    }
    if (v.has(Command.ABORT)) {
      return Rollbacks.rollBack(v, canary, Outcome.Aborted, "Aborted", "aborted by the modelship.io/abort annotation");
    }
    if (v.has(Command.PROMOTE)) {
      return promoting(v, canary, "promoted by the modelship.io/promote annotation");
    }
    List<io.fabric8.kubernetes.api.model.Pod> pods = v.canary().map(ObservedRevision::pods).orElse(List.of());
    var fetchFailure = v.canary().flatMap(ObservedRevision::fetchFailure);
    if (fetchFailure.isPresent()) {
      return Rollbacks.rollBack(v, canary, Outcome.RolledBack, "FetchFailed", fetchFailure.get());
    }
    var crash = PodSignals.crashLooping(pods).or(() -> PodSignals.restarted(pods));
    if (crash.isPresent()) {
      return Rollbacks.rollBack(v, canary, Outcome.RolledBack, "CrashLoop", crash.get());
    }

    Instant stepStarted = Instant.parse(canary.getStepStartedAt());
    var gpu = PodSignals.waitingForGpu(pods);
    if (gpu.isPresent()) {
      Instant since = canary.getWaitingForCapacitySince() != null ? Instant.parse(canary.getWaitingForCapacitySince()) : v.now();
      if (Duration.between(since, v.now()).compareTo(settings.schedulingDeadline()) > 0) {
        return Rollbacks.rollBack(v, canary, Outcome.RolledBack, "NoGpuCapacity",
            "canary pods waited %s for a node with free GPUs (schedulingDeadline %s): %s"
                .formatted(human(Duration.between(since, v.now())), human(settings.schedulingDeadline()), gpu.get()));
      }
      boolean first = canary.getWaitingForCapacitySince() == null;
      canary.setWaitingForCapacitySince(since.toString());
      // Waiting for capacity is not lack of progress: the progress clock starts when the GPUs arrive.
      canary.setStepStartedAt(v.now().toString());
      var t = stay(v, canary, Phase.Progressing, "WaitingForCapacity",
          "canary pods wait for a node with free GPUs (up to %s): %s".formatted(human(settings.schedulingDeadline()), gpu.get()));
      return first ? t.note(false, "WaitingForCapacity", t.message) : t;
    }
    canary.setWaitingForCapacitySince(null);

    int step = canary.getStep();
    int weight = settings.step(step).getWeight();
    int canaryReady = v.canary().map(ObservedRevision::readyReplicas).orElse(0);
    int stablePods = v.stable().map(ObservedRevision::podsHoldingResources).orElse(0);
    var plan = TrafficPlan.forWeight(settings.replicas(), weight, settings.surge(), canaryReady, stablePods);
    // What status and Events quote: the share traffic really has now, not only what the step asks.
    String share = TrafficSplit.now(settings, step, canaryReady, v.stable().map(ObservedRevision::readyReplicas).orElse(0));

    if (settings.paused()) {
      return stay(v, canary, Phase.Paused, "Paused",
          "held at step %d, %s, because spec.rollout.paused is true".formatted(step, share));
    }
    Instant reachedAt = canary.getStepReachedAt() != null ? Instant.parse(canary.getStepReachedAt()) : null;
    if (!plan.reached(canaryReady)) {
      // Once reached, a step that loses a pod keeps its clock: the budget is its pause plus the deadline.
      Instant since = reachedAt != null ? reachedAt : stepStarted;
      Duration budget = reachedAt != null ? settings.pause(step).plus(settings.progressDeadline()) : settings.progressDeadline();
      if (Duration.between(since, v.now()).compareTo(budget) > 0) {
        return Rollbacks.rollBack(v, canary, Outcome.RolledBack, "ProgressDeadlineExceeded",
            "step %d (asking %d%%) not reached in %s: %d/%d canary pods ready".formatted(
                step, weight, human(settings.progressDeadline()), canaryReady, plan.canaryTarget()));
      }
      var notCreated = v.canary().flatMap(c -> PodSignals.creationFailure(c.deployment()));
      var unschedulable = PodSignals.unschedulable(pods);
      String reason = notCreated.isPresent() ? "PodsNotCreated" : unschedulable.isPresent() ? "Unschedulable"
          : PodSignals.startingReason(pods).orElse("WaitingForCanaryPods");
      var t = stay(v, canary, Phase.Progressing, reason,
          "step %d (asking %d%%): %d/%d canary pods ready and warm%s".formatted(step, weight, canaryReady, plan.canaryTarget(),
              switch (reason) {
                case "FetchingArtifact" -> "; downloading the artifact";
                case "WarmingUp" -> "; loading and warming up the model";
                case "PodsNotCreated" -> "; " + notCreated.get();
                case "Unschedulable" -> "; no node fits: " + unschedulable.get();
                default -> "";
              }));
      // Said once, when it starts: a person may have to act (create the PriorityClass, free resources).
      boolean news = (notCreated.isPresent() || unschedulable.isPresent())
          && !reason.equals(v.previous().getConditions().stream().filter(c -> "Progressing".equals(c.getType()))
              .map(c -> c.getReason()).findFirst().orElse(null));
      return news ? t.note(true, reason, "revision %s: %s".formatted(canary.getRevision(), t.message)) : t;
    }
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
        var t = stay(v, canary, Phase.Progressing, "GateFailed",
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
        return promoting(v, canary, "every step passed");
      }
      canary.setStep(step + 1);
      canary.setStepStartedAt(v.now().toString());
      canary.setStepReachedAt(null);
      int next = settings.step(step + 1).getWeight();
      int from = TrafficSplit.planned(settings, step);
      int to = TrafficSplit.planned(settings, step + 1);
      String asked = from == weight && to == next ? "" : " (the steps ask %d%% -> %d%%; service mode splits by ready pods)".formatted(weight, next);
      var t = stay(v, canary, Phase.Progressing, "StepAdvanced",
          "step %d passed; step %d gives the canary %d%% of traffic%s".formatted(step, step + 1, to, asked));
      return t.note(false, "StepAdvanced", "revision %s: canary traffic %d%% -> %d%%%s".formatted(canary.getRevision(), from, to, asked));
    }
    Duration budget = settings.pause(step).plus(settings.progressDeadline());
    if (Duration.between(reachedAt, v.now()).compareTo(budget) > 0) {
      // Gates that never pass (too little traffic, say) must not hold a canary for ever.
      return Rollbacks.rollBack(v, canary, Outcome.RolledBack, "ProgressDeadlineExceeded",
          "step %d, %s, was reached %s ago but its gates never passed (%s)".formatted(step, share,
              human(Duration.between(reachedAt, v.now())),
              canary.getAnalysis().isEmpty() ? "not evaluated" : verdicts(canary.getAnalysis())));
    }
    String waitingFor = !gatesPass
        ? "gates: " + (!measuredHere ? "no full window at this weight yet" : verdicts(canary.getAnalysis()))
        : "pause, %s left".formatted(human(settings.pause(step).minus(Duration.between(reachedAt, v.now()))));
    return stay(v, canary, Phase.Progressing, "StepInProgress",
        "step %d reached, %s; waiting for %s".formatted(step, share, waitingFor));
  }

  private static Transition promoting(RolloutView v, CanaryStatus canary, String why) {
    canary.setStepStartedAt(v.now().toString());
    canary.setPromotedBecause(why);
    var t = stay(v, canary, Phase.Promoting, "Promoting", "revision %s is being promoted: %s".formatted(canary.getRevision(), why));
    return t.note(false, "Promoting", t.message);
  }

  static Transition stay(RolloutView v, CanaryStatus canary, Phase phase, String reason, String message) {
    var t = new Transition(phase, reason, message);
    t.stable = RevisionStatuses.stable(v);
    RevisionStatuses.fill(canary, v, canary.getRevision(), v.canary());
    int canaryReady = v.canary().map(ObservedRevision::readyReplicas).orElse(0);
    int stableReady = v.stable().map(ObservedRevision::readyReplicas).orElse(0);
    boolean shadow = phase != Phase.Promoting && v.settings().step(canary.getStep()).shadow();
    canary.setWeight(shadow ? 0 : v.settings().gatewayApi().isPresent()
        ? (canaryReady > 0 ? requestedWeight(v, canary, phase) : 0)
        : TrafficPlan.effectiveWeight(canaryReady, stableReady));
    t.canary = canary;
    t.failedRevision = v.previous().getFailedRevision();
    return t;
  }

  static int requestedWeight(RolloutView v, CanaryStatus canary, Phase phase) {
    return phase == Phase.Promoting ? 100 : v.settings().step(canary.getStep()).getWeight();
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

  private static String verdicts(List<GateResultStatus> results) {
    return results.stream().map(r -> r.getGate() + " " + r.getVerdict()).collect(Collectors.joining(", "));
  }

  static String human(Duration d) {
    long s = Math.max(0, d.getSeconds());
    return s >= 3600 ? "%dh%02dm".formatted(s / 3600, (s % 3600) / 60) : s >= 60 ? "%dm%02ds".formatted(s / 60, s % 60) : s + "s";
  }
}
