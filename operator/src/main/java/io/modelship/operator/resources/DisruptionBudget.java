package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.modelship.operator.api.ModelDeployment;

/**
 * The PodDisruptionBudget {@code <name>} over every pod of a ModelDeployment, whatever its revision: voluntary
 * disruptions (a node drain, the cluster autoscaler moving pods) evict them one at a time, so a drain never takes
 * more than one serving pod away at once and the rest keep answering while it is replaced. Pods that are not ready
 * (a canary that cannot start, a crashing one) may always be evicted: they serve nothing, and a budget they use up
 * would block the drain. The operator's own scaling deletes pods directly and is not held by it. With one replica
 * the one pod can be evicted: keeping a model up through a drain takes two.
 */
public final class DisruptionBudget {
  /** At most this many of a ModelDeployment's pods are evicted at once. */
  public static final int MAX_UNAVAILABLE = 1;

  private DisruptionBudget() {}

  public static PodDisruptionBudget desired(ModelDeployment mdep) {
    return new PodDisruptionBudgetBuilder()
        .withMetadata(Labels.owned(mdep, mdep.getMetadata().getName(), Labels.forDeployment(mdep)))
        .withNewSpec()
        .withMaxUnavailable(new IntOrString(MAX_UNAVAILABLE))
        .withNewSelector()
        .withMatchLabels(Labels.deploymentSelector(mdep))
        .endSelector()
        .withUnhealthyPodEvictionPolicy("AlwaysAllow")
        .endSpec()
        .build();
  }
}
