package io.modelship.operator.reconciler;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.api.status.RevisionStatus;
import io.modelship.operator.inplace.InPlaceControl;
import io.modelship.operator.inplace.InPlaceControl.Observation;
import io.modelship.operator.inplace.PlacementOrder;
import io.modelship.operator.resources.Applier;
import io.modelship.operator.resources.PlacementConfigMap;
import io.modelship.operator.revision.ObservedRevision;
import io.modelship.operator.revision.Revision;
import io.modelship.operator.rollout.PodSignals;
import io.modelship.operator.rollout.RolloutSettings;
import io.modelship.operator.rollout.Transition;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The in-place part of acting on a decision (docs/pod-contract.md): what the stable revision's pods should hold
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

  /** Whether versions may be placed in this ModelDeployment's pods now, so their reports are worth reading. */
  static boolean active(Context<ModelDeployment> context, ModelDeployment mdep,
      io.modelship.operator.api.status.ModelDeploymentStatus previous) {
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
