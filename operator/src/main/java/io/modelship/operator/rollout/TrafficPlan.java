package io.modelship.operator.rollout;

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
   * @param weight requested canary weight in percent
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
    return new TrafficPlan(canary, n - ready, target);
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
}
