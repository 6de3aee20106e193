package io.modelship.operator.rollout;

import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.revision.ObservedRevision;
import io.modelship.operator.rollout.RolloutView.Command;
import java.util.Optional;

/**
 * Pending, Stable, Degraded and Failed: no rollout in flight. Either nothing serves yet and the target
 * revision is brought up directly, or a stable revision serves and a new target starts a canary, unless
 * that target is the revision that already failed.
 */
final class SteadyHandler implements PhaseHandler {

  @Override
  public Transition next(RolloutView v) {
    var failed = v.previous().getFailedRevision();
    boolean retry = v.has(Command.RETRY);
    if (v.stable().isEmpty()) {
      return firstRevision(v, failed, retry);
    }
    ObservedRevision stable = v.stable().get();
    var stableStatus = RevisionStatuses.of(v, stable.hash(), v.stable());
    if (stable.hash().equals(v.target())) {
      var t = new Transition(Phase.Stable, stable.isReady() ? "RevisionReady" : "StableNotReady",
          "revision %s serves with %d/%d pods ready".formatted(stable.hash(), stable.readyReplicas(), stable.desiredReplicas()));
      t.stable = stableStatus;
      return t;
    }
    if (v.target().equals(failed) && !retry) {
      var t = new Transition(Phase.Degraded, "RolledBack",
          "revision %s failed its rollout and is not retried until the spec changes or modelship.io/retry is set; revision %s keeps serving"
              .formatted(failed, stable.hash()));
      t.stable = stableStatus;
      t.failedRevision = failed;
      return t;
    }
    var canary = new CanaryStatus();
    RevisionStatuses.fill(canary, v, v.target(), v.targetObserved());
    canary.setStep(0);
    canary.setWeight(0);
    canary.setStartedAt(v.now().toString());
    canary.setStepStartedAt(v.now().toString());
    canary.setConsecutiveFailures(0);
    Optional<String> notInPlace = v.settings().inPlace()
        ? InPlaceHandler.cannotRunInPlace(v, stable) : Optional.of("the strategy is canary");
    if (notInPlace.isEmpty()) {
      canary.setHost(stable.podRevision());
      canary.setVersion(v.inPlace().targetVersion());
      var t = new Transition(Phase.Progressing, "CanaryStartingInPlace",
          "revision %s starts in place: the pods of revision %s load it beside revision %s".formatted(v.target(),
              stable.podRevision(), stable.hash()));
      t.stable = stableStatus;
      t.canary = canary;
      return t.note(false, "RolloutStarted", "revision %s starts in place in the pods of revision %s; revision %s keeps serving"
          .formatted(v.target(), stable.podRevision(), stable.hash()));
    }
    var t = new Transition(Phase.Progressing, "CanaryStarting",
        "revision %s starts as a canary beside revision %s".formatted(v.target(), stable.hash()));
    t.stable = stableStatus;
    t.canary = canary;
    if (v.settings().inPlace()) {
      t.note(false, "InPlaceNotPossible", "revision %s rolls out with new pods: %s".formatted(v.target(), notInPlace.get()));
    }
    t.note(false, "RolloutStarted", "revision %s starts as a canary; revision %s keeps serving".formatted(v.target(), stable.hash()));
    // Said when it matters: a person reading "10%" in the spec should not learn from the traffic that it is 33%.
    TrafficSplit.coarseness(v.settings()).ifPresent(why -> t.note(true, "CoarseTrafficSplit", why));
    return t;
  }

  /** Nothing serves yet: the target revision runs at full size, no canary. */
  private static Transition firstRevision(RolloutView v, String failed, boolean retry) {
    if (v.target().equals(failed) && !retry) {
      var t = new Transition(Phase.Failed, "RolledBack",
          "revision %s failed and is not retried until the spec changes or modelship.io/retry is set".formatted(failed));
      t.failedRevision = failed;
      return t;
    }
    Optional<ObservedRevision> target = v.targetObserved();
    if (target.map(ObservedRevision::isReady).orElse(false)) {
      var t = new Transition(Phase.Stable, "RevisionReady", "revision %s serves with %d/%d pods ready"
          .formatted(v.target(), target.get().readyReplicas(), target.get().desiredReplicas()));
      t.stable = RevisionStatuses.of(v, v.target(), target);
      return t.note(false, "RevisionReady", t.message);
    }
    var pods = target.map(ObservedRevision::pods).orElse(java.util.List.of());
    Optional<String> fetchFailure = target.flatMap(ObservedRevision::fetchFailure);
    Optional<String> crash = PodSignals.crashLooping(pods);
    Optional<String> gpu = PodSignals.waitingForGpu(pods);
    Optional<String> notCreated = target.flatMap(o -> PodSignals.creationFailure(o.deployment()));
    Optional<String> unschedulable = PodSignals.unschedulable(pods);
    Transition t;
    if (notCreated.isPresent()) {
      // Not sticky: the ReplicaSet retries, and once the cause is fixed (a PriorityClass created, quota freed) the
      // next pass sees pods.
      t = new Transition(Phase.Failed, "PodsNotCreated", "revision %s: %s; nothing serves yet".formatted(v.target(), notCreated.get()));
    } else if (fetchFailure.isPresent()) {
      t = new Transition(Phase.Failed, "FetchFailed", "revision %s cannot start: %s; nothing serves yet".formatted(v.target(), fetchFailure.get()));
    } else if (crash.isPresent()) {
      t = new Transition(Phase.Failed, "CrashLoop", "revision %s cannot start: %s; nothing serves yet".formatted(v.target(), crash.get()));
    } else if (gpu.isPresent()) {
      t = new Transition(Phase.Pending, "WaitingForCapacity", "revision %s waits for a node with free GPUs: %s".formatted(v.target(), gpu.get()));
    } else if (unschedulable.isPresent()) {
      t = new Transition(Phase.Pending, "Unschedulable", "revision %s: no node fits its pods: %s; nothing serves yet"
          .formatted(v.target(), unschedulable.get()));
    } else {
      int ready = target.map(ObservedRevision::readyReplicas).orElse(0);
      t = new Transition(Phase.Pending, PodSignals.startingReason(pods).orElse("Pending"),
          "revision %s has %d/%d pods ready; nothing serves yet".formatted(v.target(), ready, v.settings().replicas()));
    }
    t.failedRevision = retry ? null : failed;
    return t;
  }
}
