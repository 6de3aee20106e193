package io.modelship.operator.reconciler;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.analysis.AnalysisRequest;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.api.status.RevisionStatus;
import io.modelship.operator.inplace.InPlaceControl;
import io.modelship.operator.inplace.InPlaceControl.Observation;
import io.modelship.operator.inplace.PlacementOrder;
import io.modelship.operator.resources.Applier;
import io.modelship.operator.resources.PlacementConfigMap;
import io.modelship.operator.resources.RevisionDeployment;
import io.modelship.operator.revision.ObservedRevision;
import io.modelship.operator.revision.Revision;
import io.modelship.operator.rollout.InPlaceView;
import io.modelship.operator.rollout.PodSignals;
import io.modelship.operator.rollout.RolloutSettings;
import io.modelship.operator.rollout.Transition;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The in-place part of observing and of acting on a decision (docs/pod-contract.md). It reads what the stable
 * revision's pods hold while versions are placed in them. Acting: what the stable revision's pods should hold
 * (its version as primary; during an in-place canary the new version beside it at the step's weight; while
 * promoting the new version alone) goes into the placement ConfigMap, for pods that start later, and to every pod
 * that has not acknowledged it, over {@code /admin/versions}. Once nothing is served in place any more and every
 * pod holds only the stable version, the ConfigMap goes.
 */
final class VersionPlacer {
  private final InPlaceControl control;

  VersionPlacer(InPlaceControl control) {
    this.control = control;
  }

  /**
   * What an in-place rollout sees this pass: whether the target could run in the stable revision's pods, and, while
   * versions are placed in them, what each of those pods reports holding (read over /admin/versions).
   */
  InPlaceView observe(Context<ModelDeployment> context, ModelDeployment pinned, ModelDeploymentStatus previous,
      Optional<ObservedRevision> stable, Revision target) {
    Map<String, Observation> reports = active(context, pinned, previous) && stable.isPresent()
        ? control.observe(context.getClient(), pinned, stable.get().pods()) : Map.of();
    Optional<String> hostKey = stable.map(s -> s.deployment().getMetadata().getAnnotations())
        .map(a -> a.get(RevisionDeployment.IN_PLACE_KEY_ANNOTATION));
    return new InPlaceView(target.inPlaceKey(), target.servedVersion(), hostKey, reports);
  }

  /** The two versions the gates tell apart in the pods' metrics, when the canary runs in place. */
  static Optional<AnalysisRequest.InPlace> analysisVersions(ModelDeploymentStatus previous) {
    return Optional.ofNullable(previous.getCanary())
        .filter(c -> c.getHost() != null)
        .map(c -> new AnalysisRequest.InPlace(c.getVersion(), previous.getStable().getVersion(),
            Instant.parse(c.getStartedAt())));
  }

  /** Whether versions may be placed in this ModelDeployment's pods now, so their reports are worth reading. */
  private static boolean active(Context<ModelDeployment> context, ModelDeployment mdep,
      ModelDeploymentStatus previous) {
    return (previous.getCanary() != null && previous.getCanary().getHost() != null)
        || (previous.getStable() != null && previous.getStable().getHost() != null)
        || RevisionObserver.owned(context, ConfigMap.class, PlacementConfigMap.name(mdep)).isPresent();
  }

  /**
   * Places what {@code decision} asks; returns true when every ready pod already holds it (nothing is left to
   * converge), false while some pod has yet to.
   */
  boolean place(ModelDeployment mdep, Context<ModelDeployment> context, Transition decision, Revision target,
      RolloutSettings settings, Map<String, ObservedRevision> observed, Map<String, Observation> reports) {
    Optional<ConfigMap> configMap = RevisionObserver.owned(context, ConfigMap.class, PlacementConfigMap.name(mdep));
    boolean inPlaceCanary = decision.canary != null && decision.canary.getHost() != null;
    RevisionStatus stable = decision.stable;
    boolean stableHosted = stable != null && stable.getHost() != null;
    if ((!inPlaceCanary && !stableHosted && configMap.isEmpty()) || stable == null) {
      return true;
    }
    ObservedRevision pods = observed.get(stable.getRevision());
    if (pods == null) {
      return true;
    }
    Optional<PlacementOrder> existing = configMap.map(c -> c.getData() == null ? null : c.getData().get(PlacementConfigMap.KEY))
        .flatMap(PlacementOrder::parse);
    var stableEntry = stable.getRevision().equals(target.hash()) ? PlacementOrder.of(target)
        : existing.filter(o -> o.primaryVersion().equals(stable.getVersion())).map(PlacementOrder::primary)
            .orElse(PlacementOrder.held(stable.getVersion()));
    PlacementOrder want;
    if (inPlaceCanary && decision.phase == Phase.Promoting) {
      want = new PlacementOrder(PlacementOrder.of(target), Optional.empty(), 0);
    } else if (inPlaceCanary) {
      want = new PlacementOrder(stableEntry, Optional.of(PlacementOrder.of(target)),
          settings.step(decision.canary.getStep()).getWeight());
    } else {
      want = new PlacementOrder(stableEntry, Optional.empty(), 0);
    }

    List<Pod> ready = pods.pods().stream().filter(PodSignals::ready).toList();
    boolean settled = ready.stream().allMatch(pod -> Optional.ofNullable(reports.get(pod.getMetadata().getName()))
        .flatMap(Observation::report)
        .filter(want::acknowledgedBy)
        .filter(r -> inPlaceCanary || r.servesOnly(want.primaryVersion()))
        .isPresent());
    var applier = new Applier(context.getClient());
    if (!inPlaceCanary && !stableHosted && settled) {
      configMap.ifPresent(applier::delete);
      return true;
    }
    applier.apply(PlacementConfigMap.desired(mdep, want.json()), configMap, context);
    control.push(context.getClient(), mdep, pods.pods(), reports, want);
    return settled;
  }
}
