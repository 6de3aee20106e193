package io.modelship.operator.rollout;

import io.fabric8.kubernetes.api.model.Pod;
import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.api.status.PodVersionStatus;
import io.modelship.operator.inplace.InPlaceControl.Observation;
import io.modelship.operator.inplace.PodReport;
import io.modelship.operator.revision.ObservedRevision;
import io.modelship.operator.rollout.RolloutView.Command;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Progressing, Paused and Promoting of a canary that runs in place (spec.rollout.strategy inPlace): every pod of
 * the stable revision loads the new version beside the one it serves and gives it the step's weight of its own
 * requests. A step is reached when every ready pod holds the new version ready at that weight; from there the
 * gates, pauses and failure limits are a pod canary's ({@link StepGates}), read from the pods' per-version metrics.
 * A version that a pod cannot fetch, fit or load rolls back at once (or, when it does not fit and the spec allows,
 * rolls out with new pods instead). Promotion makes it every pod's primary; the old version is unloaded.
 */
final class InPlaceHandler implements PhaseHandler {

  @Override
  public Transition next(RolloutView v) {
    CanaryStatus canary = RevisionStatuses.canaryCopy(v);
    if (!canary.getRevision().equals(v.target())) {
      return Rollbacks.rollBack(v, canary, Outcome.Aborted, "Superseded",
          "the spec now asks for revision %s".formatted(v.target()));
    }
    if (v.has(Command.ABORT)) {
      return Rollbacks.rollBack(v, canary, Outcome.Aborted, "Aborted", "aborted by the modelship.io/abort annotation");
    }
    Pods pods = Pods.of(v);
    if (v.previous().getPhase() == Phase.Promoting) {
      return promotingNext(v, canary, pods);
    }
    if (v.has(Command.PROMOTE)) {
      return ProgressingHandler.promoting(v, canary, "promoted by the modelship.io/promote annotation");
    }
    var settings = v.settings();
    String version = v.inPlace().targetVersion();
    Optional<String> failure = pods.failure(version);
    if (failure.isPresent()) {
      String reason = pods.failureReason(version);
      if ("DoesNotFit".equals(reason) && settings.fallbackToPods()) {
        return fallBackToPods(v, failure.get());
      }
      return Rollbacks.rollBack(v, canary, Outcome.RolledBack, reason, failure.get());
    }

    int step = canary.getStep();
    int weight = settings.step(step).getWeight();
    int holding = pods.serving(version, weight);
    int ready = pods.ready.size();
    String share = "%d%% of each pod's requests (in place, %d of %d pods)".formatted(weight, holding, ready);
    if (settings.paused()) {
      return stay(v, canary, Phase.Paused, "Paused",
          "held at step %d, %s, because spec.rollout.paused is true".formatted(step, share));
    }
    Instant reachedAt = canary.getStepReachedAt() != null ? Instant.parse(canary.getStepReachedAt()) : null;
    if (ready == 0 || holding < ready) {
      Instant since = reachedAt != null ? reachedAt : Instant.parse(canary.getStepStartedAt());
      Duration budget = reachedAt != null ? settings.pause(step).plus(settings.progressDeadline()) : settings.progressDeadline();
      if (Duration.between(since, v.now()).compareTo(budget) > 0) {
        return Rollbacks.rollBack(v, canary, Outcome.RolledBack, "ProgressDeadlineExceeded",
            "step %d (asking %d%%) not reached in place in %s: %d of %d ready pods hold version %s at that weight%s"
                .formatted(step, weight, ProgressingHandler.human(settings.progressDeadline()), holding, ready, version,
                    pods.unreachable().map(u -> "; " + u).orElse("")));
      }
      String reason = pods.loadingReason(version);
      return stay(v, canary, Phase.Progressing, reason,
          "step %d (asking %d%%): %d of %d ready pods hold version %s at that weight%s".formatted(step, weight, holding,
              ready, version, switch (reason) {
                case "FetchingInPlace" -> "; downloading it beside the version they serve";
                case "LoadingInPlace" -> "; loading and warming it up beside the version they serve";
                default -> pods.unreachable().map(u -> "; " + u).orElse("");
              }));
    }
    return StepGates.judge(v, canary, step, weight, share, reachedAt, InPlaceHandler::stay);
  }

  /** Promoting in place: done once every ready pod serves the new version as its primary. */
  private static Transition promotingNext(RolloutView v, CanaryStatus canary, Pods pods) {
    String version = v.inPlace().targetVersion();
    int ready = pods.ready.size();
    int promoted = pods.primary(version);
    if (ready > 0 && promoted >= ready) {
      var t = new Transition(Phase.Stable, "Promoted",
          "revision %s serves all traffic in place, in the %d pods of revision %s".formatted(canary.getRevision(), ready,
              canary.getHost()));
      t.stable = RevisionStatuses.of(v, canary.getRevision(), v.canary());
      t.stable.setHost(canary.getHost());
      t.stable.setModelVersion(canary.getModelVersion());
      t.stable.setVersion(canary.getVersion());
      t.stable.setDigest(canary.getDigest());
      t.stable.setReadyReplicas(ready);
      t.canary = null;
      t.failedRevision = null;
      t.ended = Rollbacks.ended(v, t.stable, Outcome.Promoted,
          canary.getPromotedBecause() != null ? canary.getPromotedBecause() : "every step passed");
      return t.note(false, "Promoted", "revision %s promoted to stable in place; the pods unload version %s"
          .formatted(canary.getRevision(), v.previous().getStable().getVersion()));
    }
    Duration waited = Duration.between(Instant.parse(canary.getStepStartedAt()), v.now());
    if (waited.compareTo(v.settings().progressDeadline()) > 0) {
      return Rollbacks.rollBack(v, canary, Outcome.RolledBack, "ProgressDeadlineExceeded",
          "promotion in place did not reach every pod in %s (%d of %d serve version %s)".formatted(
              ProgressingHandler.human(v.settings().progressDeadline()), promoted, ready, version));
    }
    return stay(v, canary, Phase.Promoting, "Promoting",
        "revision %s: %d of %d pods serve it as their primary".formatted(canary.getRevision(), promoted, ready));
  }

  /** The new version does not fit beside the current one: it starts again as a canary with pods of its own. */
  private static Transition fallBackToPods(RolloutView v, String why) {
    var canary = new CanaryStatus();
    RevisionStatuses.fill(canary, v, v.target(), v.targetObserved());
    canary.setHost(null);
    canary.setStep(0);
    canary.setWeight(0);
    canary.setStartedAt(v.now().toString());
    canary.setStepStartedAt(v.now().toString());
    canary.setConsecutiveFailures(0);
    var t = new Transition(Phase.Progressing, "InPlaceDoesNotFit",
        "revision %s does not fit in place (%s); it rolls out with pods of its own".formatted(v.target(), why));
    t.stable = RevisionStatuses.stable(v);
    t.canary = canary;
    t.failedRevision = v.previous().getFailedRevision();
    return t.note(true, "InPlaceDoesNotFit", t.message);
  }

  static Transition stay(RolloutView v, CanaryStatus canary, Phase phase, String reason, String message) {
    var t = new Transition(phase, reason, message);
    t.stable = RevisionStatuses.stable(v);
    String host = canary.getHost();
    RevisionStatuses.fill(canary, v, canary.getRevision(), v.canary());
    canary.setHost(host);
    String version = v.inPlace().targetVersion();
    if (!version.equals(canary.getRevision())) {
      canary.setModelVersion(version);
      canary.setVersion(version);
    }
    Pods pods = Pods.of(v);
    pods.digest(version).ifPresent(canary::setDigest);
    canary.setReplicas(pods.ready.size());
    canary.setReadyReplicas(pods.holdingReady(version));
    int asked = ProgressingHandler.requestedWeight(v, canary, phase);
    canary.setWeight(phase == Phase.Promoting ? (pods.primary(version) > 0 ? 100 : asked)
        : pods.serving(version, asked) > 0 ? asked : 0);
    canary.setPods(pods.disagreement(version, asked, phase));
    t.canary = canary;
    t.failedRevision = v.previous().getFailedRevision();
    return t;
  }

  /** Whether the target can run inside the stable revision's pods, or why not. */
  static Optional<String> cannotRunInPlace(RolloutView v, ObservedRevision stable) {
    var settings = v.settings();
    if (settings.gatewayApi().isPresent()) {
      return Optional.of("the Gateway API splits traffic between pods, not inside them");
    }
    ModelDeploymentStatus previous = v.previous();
    if (v.inPlace().hostKey().isEmpty()) {
      return Optional.of("the pods of revision %s were made before in-place rollouts (they carry no in-place key)"
          .formatted(stable.podRevision()));
    }
    if (!v.inPlace().hostKey().get().equals(v.inPlace().targetKey())) {
      return Optional.of("the change is more than the model's source or digest (the image, resources, scheduling,"
          + " server settings or the credentials Secret changed), and only new pods can carry it");
    }
    String serving = previous.getStable() != null ? previous.getStable().getVersion() : null;
    if (v.inPlace().targetVersion().equals(serving)) {
      return Optional.of("revision %s would be served under the version name of the one serving (%s)"
          .formatted(v.target(), serving));
    }
    return Optional.empty();
  }

  /** The stable revision's pods (the host's) and what each reported. */
  private record Pods(List<Pod> ready, List<PodReport> reports, List<String> names,
      java.util.Map<String, Observation> observed) {
    static Pods of(RolloutView v) {
      List<Pod> ready = v.stable().map(ObservedRevision::pods).orElse(List.of()).stream()
          .filter(PodSignals::ready).toList();
      List<PodReport> reports = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (Pod pod : ready) {
        Observation seen = v.inPlace().pods().get(pod.getMetadata().getName());
        if (seen != null && seen.report().isPresent()) {
          reports.add(seen.report().get());
          names.add(pod.getMetadata().getName());
        }
      }
      return new Pods(ready, reports, names, v.inPlace().pods());
    }

    int serving(String version, int weight) {
      return (int) reports.stream().filter(r -> r.serves(version, weight)).count();
    }

    int holdingReady(String version) {
      return (int) reports.stream().filter(r -> r.version(version).map(PodReport.VersionState::ready).orElse(false))
          .count();
    }

    int primary(String version) {
      return (int) reports.stream().filter(r -> r.primary().equals(version)).count();
    }

    Optional<String> digest(String version) {
      return reports.stream().map(r -> r.version(version).flatMap(PodReport.VersionState::sha256))
          .flatMap(Optional::stream).findFirst();
    }

    Optional<String> failure(String version) {
      for (int i = 0; i < reports.size(); i++) {
        var state = reports.get(i).version(version);
        if (state.isPresent() && state.get().failed()) {
          return Optional.of("pod %s: %s".formatted(names.get(i), state.get().message().orElse("failed to load")));
        }
      }
      return Optional.empty();
    }

    /** The pod's reason for a failed version, as the server gave it (FetchFailed, DoesNotFit, LoadFailed...). */
    String failureReason(String version) {
      return reports.stream().map(r -> r.version(version)).flatMap(Optional::stream)
          .filter(PodReport.VersionState::failed).map(s -> s.reason().orElse("LoadFailed")).findFirst()
          .orElse("LoadFailed");
    }

    String loadingReason(String version) {
      var states = reports.stream().map(r -> r.version(version).map(PodReport.VersionState::state).orElse("ABSENT"))
          .toList();
      return states.contains("FETCHING") ? "FetchingInPlace"
          : states.contains("LOADING") || states.contains("WARMING_UP") ? "LoadingInPlace" : "WaitingForPods";
    }

    Optional<String> unreachable() {
      List<String> missing = new ArrayList<>();
      for (Pod pod : ready) {
        Observation seen = observed.get(pod.getMetadata().getName());
        if (seen == null || seen.report().isEmpty()) {
          missing.add(pod.getMetadata().getName() + " (" + (seen == null ? "not asked yet" : seen.problem()) + ")");
        }
      }
      return missing.isEmpty() ? Optional.empty() : Optional.of("no report from " + String.join(", ", missing));
    }

    /** Each pod's state with the new version, while they differ; null once every pod is where the step asks. */
    List<PodVersionStatus> disagreement(String version, int weight, Phase phase) {
      List<PodVersionStatus> each = new ArrayList<>();
      boolean agree = true;
      for (Pod pod : ready) {
        Observation seen = observed.get(pod.getMetadata().getName());
        if (seen == null || seen.report().isEmpty()) {
          each.add(new PodVersionStatus(pod.getMetadata().getName(), "UNREACHABLE", null,
              seen == null ? "not asked yet" : seen.problem()));
          agree = false;
          continue;
        }
        PodReport report = seen.report().get();
        var state = report.version(version);
        int podWeight = report.primary().equals(version) ? 100
            : report.candidate().filter(version::equals).isPresent() ? report.weight() : 0;
        each.add(new PodVersionStatus(pod.getMetadata().getName(), state.map(PodReport.VersionState::state)
            .orElse("ABSENT"), podWeight, state.flatMap(PodReport.VersionState::message).orElse(null)));
        agree &= phase == Phase.Promoting ? podWeight == 100 : report.serves(version, weight);
      }
      return agree ? null : each;
    }
  }
}
