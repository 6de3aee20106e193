package io.modelship.operator.reconciler;

import static io.modelship.operator.api.CrdConstants.LABEL_REVISION;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.resources.Applier;
import io.modelship.operator.resources.ClientService;
import io.modelship.operator.resources.DisruptionBudget;
import io.modelship.operator.resources.PodAutoscaler;
import io.modelship.operator.resources.PodIngressPolicy;
import io.modelship.operator.resources.RevisionDeployment;
import io.modelship.operator.resources.RevisionPin;
import io.modelship.operator.resources.RevisionService;
import io.modelship.operator.resources.TrafficRoute;
import io.modelship.operator.revision.ObservedRevision;
import io.modelship.operator.revision.Revision;
import io.modelship.operator.rollout.RolloutSettings;
import io.modelship.operator.rollout.TrafficPlan;
import io.modelship.operator.rollout.Transition;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The last step of a pass: makes the cluster match the decision just recorded in status: which revisions live,
 * with how many pods, and the traffic weights. Everything it does derives from the decision, never from what a
 * handler happened to think, so a restarted operator does the same. Writes go through {@link Applier}, which
 * skips objects that already match.
 */
final class Actuator {
  private Actuator() {}

  static void act(ModelDeployment mdep, Context<ModelDeployment> context, Transition decision, Revision target,
      RolloutSettings settings, Map<String, ObservedRevision> observed, PodIngressPolicy.Operator operator) {
    var applier = new Applier(context.getClient());
    int n = settings.replicas();
    String stableHash = decision.stable != null ? decision.stable.getRevision() : null;
    Map<String, Integer> weights = new LinkedHashMap<>();
    Set<String> live = new LinkedHashSet<>();
    Optional<String> onlyServing = Optional.empty();

    if (decision.canary != null && decision.canary.getHost() != null) {
      // In place: the stable revision's pods hold the canary too; the split happens inside each pod
      // (VersionPlacer), so no pod is added or replaced and the client Service keeps selecting them all.
      scale(applier, observed.get(stableHash), n, context);
      live.add(stableHash);
      weights.put(stableHash, 100);
    } else if (decision.canary != null) {
      String canaryHash = decision.canary.getRevision();
      int weight = decision.phase == Phase.Promoting ? 100 : settings.step(decision.canary.getStep()).getWeight();
      var canaryObserved = Optional.ofNullable(observed.get(canaryHash));
      int canaryReady = canaryObserved.map(ObservedRevision::readyReplicas).orElse(0);
      int stablePods = Optional.ofNullable(observed.get(stableHash)).map(ObservedRevision::podsHoldingResources).orElse(0);
      var plan = TrafficPlan.forWeight(n, weight, settings.surge(), canaryReady, stablePods);
      // A shadow step's canary pod serves no client: the client Service selects the stable pods alone.
      boolean shadow = decision.phase != Phase.Promoting && settings.step(decision.canary.getStep()).shadow();
      // Stable shrinks first: in swap mode the canary's GPUs come from it.
      scale(applier, observed.get(stableHash), plan.stableReplicas(), context);
      applier.apply(RevisionDeployment.desired(mdep, target, plan.canaryReplicas()),
          canaryObserved.map(ObservedRevision::deployment), context);
      live.add(stableHash);
      live.add(canaryHash);
      // Only ready, warmed-up canary pods ever get traffic.
      int routed = canaryReady > 0 ? weight : 0;
      weights.put(stableHash, 100 - routed);
      weights.put(canaryHash, routed);
      if (shadow) {
        onlyServing = Optional.of(stableHash);
      }
    } else if (stableHash != null) {
      live.add(stableHash);
      weights.put(stableHash, 100);
      boolean hosted = Optional.ofNullable(observed.get(stableHash)).map(ObservedRevision::hosted).orElse(false);
      if (stableHash.equals(target.hash()) && !hosted) {
        applier.apply(RevisionDeployment.desired(mdep, target, n),
            Optional.ofNullable(observed.get(stableHash)).map(ObservedRevision::deployment), context);
      } else {
        scale(applier, observed.get(stableHash), n, context);
      }
      // A rolled-back canary loses its traffic at once, but its pods go only once the stable revision is back at
      // full size: the pod count never drops below the stable's ready floor.
      String failed = decision.failedRevision;
      if (decision.phase == Phase.RollingBack && failed != null && observed.containsKey(failed)) {
        live.add(failed);
        weights.put(failed, 0);
        onlyServing = Optional.of(stableHash);
      }
      // Its Deployment is deleted in the pass that ends the rollback, but its pods go later (the garbage collector)
      // and stay ready until then: the client Service must not select them again meanwhile (ShadowE2eTest saw a
      // client answered by a rolled-back shadow canary when it did).
      if (failed != null && RevisionObserver.hasPods(context, failed)) {
        onlyServing = Optional.of(stableHash);
      }
    } else if (!target.hash().equals(decision.failedRevision)) {
      // Nothing serves yet: the target runs at full size.
      live.add(target.hash());
      weights.put(target.hash(), 100);
      applier.apply(RevisionDeployment.desired(mdep, target, n),
          Optional.ofNullable(observed.get(target.hash())).map(ObservedRevision::deployment), context);
    }

    // A revision served in place lives in its host's pods: those are the objects to keep and to select.
    Set<String> podRevisions = new LinkedHashSet<>();
    live.forEach(revision -> podRevisions.add(podRevision(revision, decision, observed)));
    onlyServing = onlyServing.map(revision -> podRevision(revision, decision, observed));
    for (String revision : podRevisions) {
      String name = Revision.objectName(mdep.getMetadata().getName(), revision);
      applier.apply(RevisionService.desired(mdep, revision), RevisionObserver.owned(context, Service.class, name),
          context);
      // The first digest a pod of this revision verified is the one every later pod must find.
      Optional<ConfigMap> pin = RevisionObserver.owned(context, ConfigMap.class, name);
      Optional.ofNullable(observed.get(revision)).flatMap(ObservedRevision::artifact)
          .map(ObservedRevision.Artifact::sha256).filter(sha -> pin.isEmpty())
          .ifPresent(sha -> applier.apply(RevisionPin.desired(mdep, revision, sha), pin, context));
    }
    applier.apply(ClientService.desired(mdep, onlyServing),
        RevisionObserver.owned(context, Service.class, mdep.getMetadata().getName()), context);
    applier.apply(DisruptionBudget.desired(mdep),
        RevisionObserver.owned(context, PodDisruptionBudget.class, mdep.getMetadata().getName()), context);
    Optional<NetworkPolicy> policy = RevisionObserver.owned(context, NetworkPolicy.class, mdep.getMetadata().getName());
    PodIngressPolicy.desired(mdep, operator).ifPresentOrElse(desired -> applier.apply(desired, policy, context),
        () -> policy.ifPresent(applier::delete));
    Optional<HorizontalPodAutoscaler> autoscaler =
        RevisionObserver.owned(context, HorizontalPodAutoscaler.class, mdep.getMetadata().getName());
    PodAutoscaler.desired(mdep).ifPresentOrElse(desired -> applier.apply(desired, autoscaler, context),
        () -> autoscaler.ifPresent(applier::delete));
    settings.gatewayApi().ifPresent(gateway -> {
      if (!weights.isEmpty()) {
        Map<String, Integer> podWeights = new LinkedHashMap<>();
        weights.forEach((revision, weight) -> podWeights.merge(podRevision(revision, decision, observed), weight, Integer::sum));
        applier.apply(TrafficRoute.desired(mdep, gateway, podWeights),
            RevisionObserver.owned(context, HTTPRoute.class, gateway.getHttpRoute()), context);
      }
    });
    removeRevisionsNotIn(podRevisions, context, applier);
  }

  /**
   * The revision whose pods hold {@code revision}. For the canary the decision says so: the observation was made
   * from the status before it, and a canary that has just left its host's pods (it does not fit beside the version
   * they serve) would otherwise still map to the host, and its new Deployment be deleted in the pass that created it.
   */
  private static String podRevision(String revision, Transition decision, Map<String, ObservedRevision> observed) {
    if (decision.canary != null && revision.equals(decision.canary.getRevision())) {
      return decision.canary.getHost() != null ? decision.canary.getHost() : revision;
    }
    return Optional.ofNullable(observed.get(revision)).map(ObservedRevision::podRevision).orElse(revision);
  }

  private static void scale(Applier applier, ObservedRevision revision, int replicas, Context<ModelDeployment> context) {
    if (revision != null) {
      applier.scale(revision.deployment(), replicas, context);
    }
  }

  private static void removeRevisionsNotIn(Set<String> live, Context<ModelDeployment> context, Applier applier) {
    for (Class<? extends HasMetadata> type : List.of(Deployment.class, Service.class, ConfigMap.class)) {
      context.getSecondaryResources(type).stream()
          .filter(r -> r.getMetadata().getLabels() != null)
          .filter(r -> {
            String revision = r.getMetadata().getLabels().get(LABEL_REVISION);
            return revision != null && !live.contains(revision);
          })
          .forEach(applier::delete);
    }
  }
}
