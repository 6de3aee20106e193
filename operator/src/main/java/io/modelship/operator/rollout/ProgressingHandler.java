package io.modelship.operator.rollout;

import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.revision.ObservedRevision;
import io.modelship.operator.rollout.RolloutView.Command;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

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
    return StepGates.judge(v, canary, step, weight, share, reachedAt, ProgressingHandler::stay);
  }

  static Transition promoting(RolloutView v, CanaryStatus canary, String why) {
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

  static String human(Duration d) {
    long s = Math.max(0, d.getSeconds());
    return s >= 3600 ? "%dh%02dm".formatted(s / 3600, (s % 3600) / 60) : s >= 60 ? "%dm%02ds".formatted(s / 60, s % 60) : s + "s";
  }
}
