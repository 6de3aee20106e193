package io.modelship.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TrafficPlanTest {

  @Test
  void theCanaryGetsPodsInProportionToItsWeightAndAtLeastOne() {
    assertThat(TrafficPlan.forWeight(10, 10, 1, 0, 10).canaryTarget()).isEqualTo(1);
    assertThat(TrafficPlan.forWeight(10, 50, 1, 0, 10).canaryTarget()).isEqualTo(5);
    assertThat(TrafficPlan.forWeight(2, 10, 1, 0, 2).canaryTarget()).isEqualTo(1);
    assertThat(TrafficPlan.forWeight(4, 100, 1, 0, 4).canaryTarget()).isEqualTo(4);
  }

  @Test
  void withSurgeTheStableRevisionGivesUpOnlyPodsThatReadyCanaryPodsReplace() {
    var none = TrafficPlan.forWeight(4, 50, 1, 0, 4);
    assertThat(none.stableReplicas()).isEqualTo(4);
    assertThat(none.canaryReplicas()).isEqualTo(1);
    var one = TrafficPlan.forWeight(4, 50, 1, 1, 4);
    assertThat(one.stableReplicas()).isEqualTo(3);
    assertThat(one.canaryReplicas()).isEqualTo(2);
  }

  @Test
  void podsInFlightNeverExceedTheBudgetPlusSurge() {
    for (int n = 1; n <= 12; n++) {
      for (int surge = 1; surge <= 3; surge++) {
        for (int weight : new int[] {1, 10, 25, 50, 75, 100}) {
          for (int ready = 0; ready <= n; ready++) {
            var plan = TrafficPlan.forWeight(n, weight, surge, ready, n);
            assertThat(plan.canaryReplicas() + plan.stableReplicas()).as("n=%d surge=%d w=%d ready=%d", n, surge, weight, ready)
                .isLessThanOrEqualTo(n + surge);
            // The stable floor: never fewer stable pods than the budget minus ready canary pods.
            assertThat(plan.stableReplicas()).isGreaterThanOrEqualTo(n - Math.min(ready, plan.canaryTarget()));
          }
        }
      }
    }
  }

  @Test
  void swapModeNeverAsksForMorePodsThanTheBudget() {
    for (int n = 1; n <= 8; n++) {
      for (int weight : new int[] {10, 50, 100}) {
        for (int stablePods = 0; stablePods <= n; stablePods++) {
          var plan = TrafficPlan.forWeight(n, weight, 0, 0, stablePods);
          assertThat(plan.canaryReplicas() + Math.max(stablePods, plan.stableReplicas()))
              .as("n=%d w=%d stablePods=%d", n, weight, stablePods).isLessThanOrEqualTo(n);
        }
      }
    }
    // The stable revision must really have shrunk before the canary gets its pod.
    assertThat(TrafficPlan.forWeight(2, 50, 0, 0, 2).canaryReplicas()).isZero();
    assertThat(TrafficPlan.forWeight(2, 50, 0, 0, 1).canaryReplicas()).isEqualTo(1);
  }

  @Test
  void effectiveWeightIsTheCanarysShareOfReadyPods() {
    assertThat(TrafficPlan.effectiveWeight(1, 3)).isEqualTo(25);
    assertThat(TrafficPlan.effectiveWeight(0, 3)).isZero();
    assertThat(TrafficPlan.effectiveWeight(0, 0)).isZero();
    assertThat(TrafficPlan.effectiveWeight(2, 0)).isEqualTo(100);
  }
}
