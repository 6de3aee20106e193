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
  void aShadowStepRunsOneCanaryPodBesideEveryStablePodOrTakesOneInSwapMode() {
    var waiting = TrafficPlan.forWeight(4, 0, 1, 0, 4);
    assertThat(waiting.canaryReplicas()).isEqualTo(1);
    assertThat(waiting.stableReplicas()).isEqualTo(4);
    var ready = TrafficPlan.forWeight(4, 0, 1, 1, 4);
    assertThat(ready.stableReplicas()).as("a ready shadow pod replaces no stable pod").isEqualTo(4);
    assertThat(ready.reached(1)).isTrue();
    var swap = TrafficPlan.forWeight(4, 0, 0, 0, 4);
    assertThat(swap.stableReplicas()).as("swap mode: the canary's pod comes from the stable revision").isEqualTo(3);
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

  @Test
  void inServiceModeAStepGivesTheCanaryItsShareOfPodsNotItsWeight() {
    assertThat(TrafficPlan.serviceShare(3, 10)).isEqualTo(33);
    assertThat(TrafficPlan.serviceShare(3, 50)).isEqualTo(67);
    assertThat(TrafficPlan.serviceShare(10, 10)).isEqualTo(10);
    assertThat(TrafficPlan.serviceShare(4, 100)).isEqualTo(100);
  }

  @Test
  void tooFewReplicasForTheStepsAreNamedWithTheCountThatWouldDo() {
    var defaults = RolloutSettings.DEFAULT_STEPS;
    assertThat(TrafficPlan.replicasForSteps(3, defaults)).as("10 would do, 11 and 12 would not").contains(13);
    assertThat(TrafficPlan.replicasForSteps(10, defaults)).isEmpty();
    assertThat(TrafficPlan.replicasForSteps(4, java.util.List.of(
        new io.modelship.operator.api.spec.RolloutStep(25, "1m"), new io.modelship.operator.api.spec.RolloutStep(100, null))))
        .isEmpty();
    // One pod of 12 is 8%: 5 points from 3%, the first count close enough.
    assertThat(TrafficPlan.replicasForSteps(2, java.util.List.of(new io.modelship.operator.api.spec.RolloutStep(3, null))))
        .contains(12);
  }

  @Test
  void statusQuotesTheRealShareAndSaysWhatTheStepAsked() {
    var spec = io.modelship.operator.testing.ModelDeployments.s3("m", "s3://models/m/1/").getSpec();
    spec.setReplicas(3);
    var settings = RolloutSettings.of(spec);

    assertThat(TrafficSplit.now(settings, 0, 1, 2)).isEqualTo("33% of traffic (1 of 3 ready pods; the step asks 10%)");
    assertThat(TrafficSplit.planned(settings, 1)).isEqualTo(67);
    assertThat(TrafficSplit.coarseness(settings)).contains("with 3 replicas, steps asking 10%, 50%, 100% send 33%, "
        + "67%, 100% of traffic to the canary (service mode splits traffic by ready pods); set spec.replicas to 13 "
        + "or more, or route with spec.rollout.traffic.gatewayAPI for exact weights");

    spec.setReplicas(10);
    var enough = RolloutSettings.of(spec);
    assertThat(TrafficSplit.now(enough, 0, 1, 9)).isEqualTo("10% of traffic (1 of 10 ready pods)");
    assertThat(TrafficSplit.coarseness(enough)).isEmpty();
  }
}
