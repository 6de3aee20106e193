package io.modelship.operator.rollout;

import io.modelship.operator.api.spec.RolloutStep;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The canary's share of traffic in words, as it really is. With the Gateway API the HTTPRoute's weights are
 * exact. In service mode the client Service spreads connections over every ready pod of both revisions, so the
 * share is the canary's share of ready pods whatever the step asks: 10% of 3 replicas is one pod, 33% of the
 * traffic. Status and Events quote that share, and say so when the replica count cannot express the steps.
 */
public final class TrafficSplit {
  private TrafficSplit() {}

  /**
   * Why the steps' weights will not be what traffic gets, with what to do about it; empty when they will (the
   * Gateway API routes, or there are replicas enough).
   */
  public static Optional<String> coarseness(RolloutSettings settings) {
    if (settings.gatewayApi().isPresent()) {
      return Optional.empty();
    }
    List<RolloutStep> steps = settings.steps();
    return TrafficPlan.replicasForSteps(settings.replicas(), steps).map(enough -> "with %d %s, steps asking %s send %s of traffic to the canary (service mode splits traffic by ready pods); %s"
        .formatted(settings.replicas(), settings.replicas() == 1 ? "replica" : "replicas",
            percents(steps.stream().map(RolloutStep::getWeight).toList()),
            percents(steps.stream().map(s -> TrafficPlan.serviceShare(settings.replicas(), s.getWeight())).toList()),
            enough > 0
                ? "set spec.replicas to %d or more, or route with spec.rollout.traffic.gatewayAPI for exact weights".formatted(enough)
                : "route with spec.rollout.traffic.gatewayAPI for exact weights"));
  }

  /** The share a step gives once its canary pods are ready. */
  static int planned(RolloutSettings settings, int step) {
    int weight = settings.step(step).getWeight();
    return settings.gatewayApi().isPresent() ? weight : TrafficPlan.serviceShare(settings.replicas(), weight);
  }

  /**
   * The share right now: "weight 10%" through the Gateway API; in service mode "10% of traffic (1 of 10 ready
   * pods)", or "33% of traffic (1 of 3 ready pods; the step asks 10%)" when the two differ.
   */
  static String now(RolloutSettings settings, int step, int canaryReady, int stableReady) {
    int asked = settings.step(step).getWeight();
    if (settings.gatewayApi().isPresent()) {
      return "weight %d%%".formatted(asked);
    }
    int real = TrafficPlan.effectiveWeight(canaryReady, stableReady);
    String pods = "%d of %d ready pods".formatted(canaryReady, canaryReady + stableReady);
    return Math.abs(real - asked) <= TrafficPlan.TOLERANCE_POINTS
        ? "%d%% of traffic (%s)".formatted(real, pods)
        : "%d%% of traffic (%s; the step asks %d%%)".formatted(real, pods, asked);
  }

  private static String percents(List<Integer> values) {
    return values.stream().map(v -> v + "%").collect(Collectors.joining(", "));
  }
}
