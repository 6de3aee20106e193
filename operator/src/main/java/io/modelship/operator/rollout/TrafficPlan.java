package io.modelship.operator.rollout;

import io.modelship.operator.api.spec.RolloutStep;
import java.util.List;
import java.util.Optional;

/**
 * How many pods each revision should have, and what weight the canary gets, for one requested weight.
 *
 * <p>The rules that never bend live here: the canary gets pods in proportion to its weight; the stable
 * revision gives up a pod only for a canary pod that is already ready (its ready floor), except in swap mode
 * (surge 0), where it gives up exactly the canary's share first so the total never exceeds the budget; and
 * the pods in flight never exceed replicas + surge.
 */
public record TrafficPlan(int canaryReplicas, int stableReplicas, int canaryTarget) {

  /**
   * @param replicas the spec's pod budget (N)
   * @param weight requested canary weight in percent; 0 is a shadow step (one canary pod that no client reaches)
   * @param surge extra pods allowed; 0 is swap mode
   * @param canaryReady canary pods ready now
   * @param stablePods stable pods that exist now (not yet terminated), ready or not
   */
  public static TrafficPlan forWeight(int replicas, int weight, int surge, int canaryReady, int stablePods) {
    int n = Math.max(replicas, 1);
    int target = Math.max(1, Math.min(n, (int) Math.ceil(n * weight / 100.0)));
    if (surge == 0) {
      // Swap: the stable revision shrinks by the canary's share first; the canary grows only into pods (and
      // GPUs) the stable revision has really given back, so the total never exceeds the budget.
      int freed = Math.max(0, n - stablePods);
      return new TrafficPlan(Math.min(target, freed), n - target, target);
    }
    int ready = Math.min(canaryReady, target);
    int canary = Math.min(target, ready + surge);
    // Weight 0 is a shadow step: its one canary pod serves no client, so the stable revision gives up nothing.
    return new TrafficPlan(canary, weight == 0 ? n : n - ready, target);
  }

  /** True when the canary has every pod this step asks for, ready. */
  public boolean reached(int canaryReady) {
    return canaryReady >= canaryTarget;
  }

  /** The weight traffic really has in service mode: the canary's share of ready pods, in percent. */
  public static int effectiveWeight(int canaryReady, int stableReady) {
    int total = canaryReady + stableReady;
    return total == 0 ? 0 : Math.round(100f * canaryReady / total);
  }

  /** How far (in percentage points) a step's real share may be from what it asks before status calls it coarse. */
  public static final int TOLERANCE_POINTS = 5;

  /**
   * The share of traffic a step's weight really gives in service mode once its canary pods are ready: the
   * canary's pods over all {@code replicas} ready pods (10% of 3 replicas is 1 pod: 33%).
   */
  public static int serviceShare(int replicas, int weight) {
    int n = Math.max(replicas, 1);
    int target = Math.max(1, Math.min(n, (int) Math.ceil(n * weight / 100.0)));
    return Math.round(100f * target / n);
  }

  /**
   * Empty when every step's real share in service mode is within {@value #TOLERANCE_POINTS} points of its weight;
   * otherwise the fewest replicas from which on every count up to 100 makes it so (8 pods suit 10% and 50%, 9
   * do not), or 0 when there is none.
   */
  public static Optional<Integer> replicasForSteps(int replicas, List<RolloutStep> steps) {
    if (expresses(replicas, steps)) {
      return Optional.empty();
    }
    int from = 0;
    for (int n = 100; n >= 1 && expresses(n, steps); n--) {
      from = n;
    }
    return Optional.of(from);
  }

  private static boolean expresses(int replicas, List<RolloutStep> steps) {
    return steps.stream().allMatch(s -> Math.abs(serviceShare(replicas, s.getWeight()) - s.getWeight()) <= TOLERANCE_POINTS);
  }
}
