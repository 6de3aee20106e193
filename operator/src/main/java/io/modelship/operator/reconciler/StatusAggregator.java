package io.modelship.operator.reconciler;

import static io.modelship.operator.reconciler.Conditions.ARTIFACT_RESOLVED;
import static io.modelship.operator.reconciler.Conditions.AUTOSCALING;
import static io.modelship.operator.reconciler.Conditions.CANARY_HEALTHY;
import static io.modelship.operator.reconciler.Conditions.DEGRADED;
import static io.modelship.operator.reconciler.Conditions.FALSE;
import static io.modelship.operator.reconciler.Conditions.PROGRESSING;
import static io.modelship.operator.reconciler.Conditions.READY;
import static io.modelship.operator.reconciler.Conditions.TRAFFIC_SPLIT_EXACT;
import static io.modelship.operator.reconciler.Conditions.TRUE;
import static io.modelship.operator.reconciler.Conditions.UNKNOWN;

import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerCondition;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerStatus;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.AutoscalingSpec;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import io.modelship.operator.api.status.HistoryEntry;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.resources.Labels;
import io.modelship.operator.resources.PodAutoscaler;
import io.modelship.operator.revision.ObservedRevision;
import io.modelship.operator.rollout.PodSignals;
import io.modelship.operator.rollout.RevisionStatuses;
import io.modelship.operator.rollout.RolloutView;
import io.modelship.operator.rollout.TrafficPlan;
import io.modelship.operator.rollout.TrafficSplit;
import io.modelship.operator.rollout.Transition;
import io.modelship.operator.source.SourceTracker;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Builds the whole status of a ModelDeployment from a decision and what was observed: phase, revisions, history
 * and every condition. The one place that says what Ready, ArtifactResolved, Progressing, Degraded and
 * CanaryHealthy mean. Pure: no I/O, so it is unit tested case by case.
 */
final class StatusAggregator {
  static final int HISTORY_LIMIT = 10;
  private static final EnumSet<Phase> ROLLING =
      EnumSet.of(Phase.Progressing, Phase.Paused, Phase.Promoting, Phase.RollingBack);

  private final Clock clock;

  StatusAggregator(Clock clock) {
    this.clock = clock;
  }

  /** The status that records a phase handler's decision. */
  ModelDeploymentStatus decided(ModelDeploymentStatus previous, Transition d, RolloutView view) {
    ModelDeployment mdep = view.mdep();
    var status = new ModelDeploymentStatus();
    status.setObservedGeneration(generation(mdep));
    status.setPhase(d.phase);
    status.setStable(d.stable);
    status.setCanary(d.canary);
    status.setFailedRevision(d.failedRevision);
    status.setReplicas(pods(view));
    status.setSelector(Labels.selectorString(Labels.deploymentSelector(mdep)));
    List<HistoryEntry> history = new ArrayList<>();
    if (d.ended != null) {
      history.add(d.ended);
    }
    history.addAll(previous.getHistory() == null ? List.of() : previous.getHistory());
    status.setHistory(history.subList(0, Math.min(HISTORY_LIMIT, history.size())));

    var conditions = new Conditions(previous.getConditions(), generation(mdep), clock);
    artifactCondition(conditions, d, view);
    readyCondition(conditions, d, view);
    boolean rolling = ROLLING.contains(d.phase);
    conditions.set(PROGRESSING, rolling ? TRUE : FALSE, rolling ? d.reason : "NoRollout",
        rolling ? d.message : "no rollout in progress");
    var coarse = TrafficSplit.coarseness(view.settings());
    conditions.set(TRAFFIC_SPLIT_EXACT, coarse.isPresent() ? FALSE : TRUE,
        coarse.isPresent() ? "TooFewReplicas" : view.settings().gatewayApi().isPresent() ? "GatewayAPI" : "EnoughReplicas",
        coarse.orElse(view.settings().gatewayApi().isPresent()
            ? "the HTTPRoute's weights are the steps' weights"
            : "with %d replicas every step's share of ready pods is within %d points of its weight"
                .formatted(view.settings().replicas(), TrafficPlan.TOLERANCE_POINTS)));
    boolean degraded = d.phase == Phase.Degraded || d.phase == Phase.Failed;
    conditions.set(DEGRADED, degraded ? TRUE : FALSE, degraded ? d.reason : "AsExpected",
        degraded ? d.message : "no failure observed");
    if (d.canary != null) {
      var results = d.canary.getAnalysis();
      boolean fail = results.stream().anyMatch(r -> r.getVerdict() == Verdict.Fail);
      boolean pass = !results.isEmpty() && results.stream().allMatch(r -> r.getVerdict() == Verdict.Pass);
      conditions.set(CANARY_HEALTHY, fail ? FALSE : pass ? TRUE : UNKNOWN,
          fail ? "GateFailed" : pass ? "GatesPassing" : results.isEmpty() ? "NotEvaluated" : "Inconclusive",
          results.isEmpty() ? "no gate evaluated yet" : results.stream()
              .map(r -> r.getGate() + " " + r.getVerdict() + (r.getMessage() != null ? " (" + r.getMessage() + ")" : ""))
              .collect(Collectors.joining("; ")));
    }
    status.setConditions(conditions.build());
    return status;
  }

  /**
   * The pods of every revision that has pods of its own (a revision served in place lives in its host's), as their
   * Deployments count them: what the scale subresource shows an autoscaler.
   */
  static int pods(RolloutView view) {
    Map<String, Integer> byRevision = new HashMap<>();
    Stream.of(view.stable(), view.canary(), view.targetObserved()).flatMap(Optional::stream)
        .filter(o -> !o.hosted())
        .forEach(o -> byRevision.put(o.hash(), Optional.ofNullable(o.deployment().getStatus())
            .map(DeploymentStatus::getReplicas).orElse(0)));
    return byRevision.values().stream().mapToInt(Integer::intValue).sum();
  }

  /**
   * Ready is whether clients are served: true while the stable revision has ready pods, a rollout in progress or
   * not (Progressing and CanaryHealthy say how the rollout goes); before any revision is stable, once the first
   * one is fully ready.
   */
  private static void readyCondition(Conditions conditions, Transition d, RolloutView view) {
    Optional<ObservedRevision> stable = view.stable();
    boolean fullyReady = d.phase == Phase.Stable && stable.map(ObservedRevision::isReady)
        .or(() -> view.targetObserved().map(ObservedRevision::isReady)).orElse(false);
    if (fullyReady) {
      conditions.set(READY, TRUE, "RevisionReady", d.message);
    } else if (d.stable != null && stable.map(s -> s.readyReplicas() > 0).orElse(false)) {
      conditions.set(READY, TRUE, "StableServing", "revision %s serves with %d/%d pods ready; %s".formatted(
          stable.get().hash(), stable.get().readyReplicas(), stable.get().desiredReplicas(), d.message));
    } else {
      conditions.set(READY, FALSE, d.reason, d.message);
    }
  }

  /** What is known about the artifact of the revision the spec asks for, or of the one serving instead. */
  private static void artifactCondition(Conditions conditions, Transition d, RolloutView view) {
    String target = view.target();
    Optional<ObservedRevision> observed = view.targetObserved();
    var artifact = observed.flatMap(ObservedRevision::artifact);
    var failure = observed.flatMap(ObservedRevision::fetchFailure);
    if (artifact.isPresent()) {
      conditions.set(ARTIFACT_RESOLVED, TRUE, "ArtifactVerified", "revision %s: %s".formatted(target,
          describe(artifact.get().resolvedUri(), artifact.get().modelVersion(), artifact.get().sha256())));
    } else if (failure.isPresent()) {
      conditions.set(ARTIFACT_RESOLVED, FALSE, "FetchFailed", "revision %s: %s".formatted(target, failure.get()));
    } else if (target.equals(d.failedRevision) && observed.isEmpty()) {
      // Rolled back: the target is not deployed, so there is nothing being fetched; say what serves instead.
      String serving = Optional.ofNullable(d.stable)
          .map(s -> "; revision %s serves %s".formatted(s.getRevision(),
              describe(s.getArtifactUri(), s.getModelVersion(), s.getDigest())))
          .orElse("; nothing serves");
      conditions.set(ARTIFACT_RESOLVED, d.stable != null ? TRUE : FALSE, "TargetRolledBack",
          "revision %s failed its rollout and is not deployed%s".formatted(target, serving));
    } else if (view.stable().map(s -> s.hash().equals(target)).orElse(false)) {
      conditions.set(ARTIFACT_RESOLVED, TRUE, "ArtifactVerified", "revision %s serves".formatted(target));
    } else if (d.canary != null && d.canary.getHost() != null && target.equals(d.canary.getRevision())) {
      // In place, the stable revision's model servers fetch it and report what they verified.
      if (d.canary.getDigest() != null) {
        conditions.set(ARTIFACT_RESOLVED, TRUE, "ArtifactVerified",
            "revision %s: %s, fetched in place by the pods of revision %s".formatted(target,
                describe(RevisionStatuses.sourceUri(view.mdep()), d.canary.getModelVersion(), d.canary.getDigest()),
                d.canary.getHost()));
      } else {
        conditions.set(ARTIFACT_RESOLVED, UNKNOWN, "FetchingInPlace", "revision %s: the pods of revision %s are fetching %s"
            .formatted(target, d.canary.getHost(), RevisionStatuses.sourceUri(view.mdep())));
      }
    } else {
      var pods = observed.map(ObservedRevision::pods).orElse(List.of());
      var notCreated = observed.flatMap(o -> PodSignals.creationFailure(o.deployment()));
      var unschedulable = PodSignals.unschedulable(pods).or(() -> PodSignals.waitingForGpu(pods));
      if (notCreated.isPresent()) {
        conditions.set(ARTIFACT_RESOLVED, UNKNOWN, "PodsNotCreated",
            "revision %s: no pod can fetch it: %s".formatted(target, notCreated.get()));
      } else if (unschedulable.isPresent()) {
        conditions.set(ARTIFACT_RESOLVED, UNKNOWN, "PodsNotScheduled",
            "revision %s: no pod is scheduled to fetch it yet: %s".formatted(target, unschedulable.get()));
      } else {
        conditions.set(ARTIFACT_RESOLVED, UNKNOWN, "Fetching",
            "revision %s: fetching %s".formatted(target, RevisionStatuses.sourceUri(view.mdep())));
      }
    }
  }

  /**
   * The status when nothing can be deployed from the spec (it is invalid, or the API server refused what it
   * asks for): whatever already serves keeps serving and is reported as it is.
   */
  ModelDeploymentStatus notDeployable(ModelDeployment mdep, ModelDeploymentStatus previous,
      Optional<ObservedRevision> stable, String reason, String message) {
    var conditions = new Conditions(previous.getConditions(), generation(mdep), clock);
    var status = Serialization.jsonMapper().convertValue(previous, ModelDeploymentStatus.class);
    status.setObservedGeneration(generation(mdep));
    stable.ifPresent(s -> status.setStable(RevisionStatuses.of(mdep, previous, s.hash(), Optional.of(s))));
    status.setPhase(stable.isPresent() ? Phase.Degraded : Phase.Failed);
    String serving = stable.map(s -> "; revision %s keeps serving".formatted(s.hash())).orElse("");
    conditions.set(READY, FALSE, reason, message + serving);
    Conditions.find(previous.getConditions(), ARTIFACT_RESOLVED)
        .ifPresent(c -> conditions.set(ARTIFACT_RESOLVED, c.getStatus(), c.getReason(), c.getMessage()));
    conditions.set(PROGRESSING, FALSE, reason, "nothing is deployed from this spec");
    conditions.set(DEGRADED, stable.isPresent() ? TRUE : FALSE, reason, message);
    status.setConditions(conditions.build());
    return status;
  }

  /**
   * What status holds beside the decision, whichever way it was made (decided or not deployable): what the source
   * tracker read, and the autoscaler's verdict.
   */
  ModelDeploymentStatus completed(ModelDeploymentStatus status, ModelDeploymentStatus previous, SourceTracker.Pin pin,
      Optional<HorizontalPodAutoscaler> autoscaler) {
    return autoscaled(tracked(status, previous, pin), previous, pin.effective(), autoscaler);
  }

  /** The status with what the source tracker read: status.tracking and the SourceTracked condition. */
  ModelDeploymentStatus tracked(ModelDeploymentStatus status, ModelDeploymentStatus previous, SourceTracker.Pin pin) {
    status.setTracking(pin.tracking());
    if (pin.condition() != null) {
      status.setConditions(new Conditions(previous.getConditions(), generation(pin.effective()), clock)
          .keep(status.getConditions())
          .set(SourceTracker.CONDITION, pin.condition().status(), pin.condition().reason(), pin.condition().message())
          .build());
    }
    return status;
  }

  /**
   * The status with the Autoscaling condition, for a ModelDeployment with spec.autoscaling: whether its
   * HorizontalPodAutoscaler can scale, from the autoscaler's own conditions (AbleToScale, ScalingActive), with what
   * to install when it cannot read its metric. Without spec.autoscaling there is no such condition.
   */
  ModelDeploymentStatus autoscaled(ModelDeploymentStatus status, ModelDeploymentStatus previous, ModelDeployment mdep,
      Optional<HorizontalPodAutoscaler> autoscaler) {
    var spec = mdep.getSpec().getAutoscaling();
    if (spec == null) {
      return status; // the status was built without it
    }
    var conditions = new Conditions(previous.getConditions(), generation(mdep), clock).keep(status.getConditions());
    String name = mdep.getMetadata().getName();
    var hpaStatus = autoscaler.map(HorizontalPodAutoscaler::getStatus);
    List<HorizontalPodAutoscalerCondition> hpaConditions = hpaStatus
        .map(HorizontalPodAutoscalerStatus::getConditions).orElse(List.of());
    var notAble = hpaConditions.stream()
        .filter(c -> ("AbleToScale".equals(c.getType()) || "ScalingActive".equals(c.getType())) && FALSE.equals(c.getStatus()))
        .findFirst();
    var active = hpaConditions.stream().filter(c -> "ScalingActive".equals(c.getType())).findFirst();
    if (autoscaler.isEmpty()) {
      conditions.set(AUTOSCALING, UNKNOWN, "AutoscalerPending", "the HorizontalPodAutoscaler %s is being made".formatted(name));
    } else if (notAble.isPresent()) {
      var c = notAble.get();
      conditions.set(AUTOSCALING, FALSE, c.getReason(), "HorizontalPodAutoscaler %s: %s%s".formatted(name, c.getMessage(),
          c.getReason() != null && c.getReason().startsWith("FailedGet") ? metricsHint(spec) : ""));
    } else if (active.isPresent() && TRUE.equals(active.get().getStatus())) {
      conditions.set(AUTOSCALING, TRUE, "ScalingActive",
          "HorizontalPodAutoscaler %s scales between %d and %d pods on %s; it asks for %d".formatted(name,
              AutoscalingSpec.minReplicasOf(spec), spec.getMaxReplicas(), AutoscalingSpec.metricOf(spec),
              hpaStatus.map(HorizontalPodAutoscalerStatus::getDesiredReplicas).orElse(0)));
    } else {
      conditions.set(AUTOSCALING, UNKNOWN, "AutoscalerNotSynced",
          "the HorizontalPodAutoscaler %s has not read its metric yet".formatted(name));
    }
    status.setConditions(conditions.build());
    return status;
  }

  /** What serves the metric an autoscaler could not read. */
  private static String metricsHint(AutoscalingSpec spec) {
    String metric = AutoscalingSpec.metricOf(spec);
    return PodAutoscaler.serverMetric(metric)
        .map(gauge -> "; scaling on %s needs the custom metrics API serving %s per pod (e.g. prometheus-adapter)"
            .formatted(metric, gauge))
        .orElse("; scaling on cpu needs the resource metrics API (metrics-server) in the cluster");
  }

  /** The pass's Events: what the source tracker saw first (a moved alias starts the rollout), then the decision's. */
  static List<Transition.Note> notes(List<Transition.Note> decided, SourceTracker.Pin pin) {
    List<Transition.Note> all = new ArrayList<>();
    pin.notes().forEach(n -> all.add(new Transition.Note(n.warning(), n.reason(), n.message())));
    all.addAll(decided);
    return all;
  }

  private static String describe(String uri, String version, String digest) {
    return "%s (version %s, sha256 %s)".formatted(orDash(uri), orDash(version), orDash(digest));
  }

  static long generation(ModelDeployment mdep) {
    return mdep.getMetadata().getGeneration() != null ? mdep.getMetadata().getGeneration() : 0L;
  }

  private static String orDash(String s) {
    return s == null ? "-" : s;
  }
}
