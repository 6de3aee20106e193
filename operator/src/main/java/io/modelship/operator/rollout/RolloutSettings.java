package io.modelship.operator.rollout;

import io.modelship.operator.api.spec.AnalysisSpec;
import io.modelship.operator.api.spec.AutoscalingSpec;
import io.modelship.operator.api.spec.Durations;
import io.modelship.operator.api.spec.ModelDeploymentSpec;
import io.modelship.operator.api.spec.RolloutSpec;
import io.modelship.operator.api.spec.RolloutStep;
import io.modelship.operator.api.spec.ShadowSpec;
import io.modelship.operator.api.spec.TrafficSpec.GatewayApiTraffic;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** spec.rollout with every default filled in: the one place that says what "not set" means. */
public record RolloutSettings(
    int replicas,
    List<RolloutStep> steps,
    Duration analysisInterval,
    int failureLimit,
    int surge,
    Duration progressDeadline,
    Duration schedulingDeadline,
    boolean paused,
    Optional<GatewayApiTraffic> gatewayApi,
    boolean inPlace,
    boolean fallbackToPods) {

  public static final String IN_PLACE = "inPlace";

  public static final List<RolloutStep> DEFAULT_STEPS =
      List.of(new RolloutStep(10, "1m"), new RolloutStep(50, "1m"), new RolloutStep(100, null));
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
  public static final int DEFAULT_FAILURE_LIMIT = 2;

  public static RolloutSettings of(ModelDeploymentSpec spec) {
    RolloutSpec r = spec.getRollout() != null ? spec.getRollout() : new RolloutSpec();
    AnalysisSpec a = r.getAnalysis() != null ? r.getAnalysis() : new AnalysisSpec();
    return new RolloutSettings(
        replicas(spec),
        r.getSteps() != null && !r.getSteps().isEmpty() ? List.copyOf(r.getSteps()) : DEFAULT_STEPS,
        Durations.parse(a.getInterval(), DEFAULT_INTERVAL),
        a.getFailureLimit() != null ? a.getFailureLimit() : DEFAULT_FAILURE_LIMIT,
        r.getSurge() != null ? r.getSurge() : 1,
        Durations.parse(r.getProgressDeadline(), Duration.ofMinutes(10)),
        Durations.parse(r.getSchedulingDeadline(), Duration.ofMinutes(30)),
        Boolean.TRUE.equals(r.getPaused()),
        Optional.ofNullable(r.getTraffic()).map(t -> t.getGatewayAPI()),
        IN_PLACE.equals(r.getStrategy()),
        r.getInPlace() != null && Boolean.TRUE.equals(r.getInPlace().getFallbackToPods()));
  }

  /**
   * The pod budget: spec.replicas, which under autoscaling the HorizontalPodAutoscaler writes; kept within its bounds
   * from the first pass, before the autoscaler has acted (it would do the same). 0 is a scale to zero by hand, which
   * stops the autoscaler, as for a Deployment.
   */
  static int replicas(ModelDeploymentSpec spec) {
    int replicas = spec.getReplicas() != null ? spec.getReplicas() : 1;
    var autoscaling = spec.getAutoscaling();
    if (autoscaling == null || replicas == 0 || autoscaling.getMaxReplicas() == null) {
      return replicas;
    }
    return Math.max(AutoscalingSpec.minReplicasOf(autoscaling), Math.min(autoscaling.getMaxReplicas(), replicas));
  }

  /** The Gateway API traffic settings of a spec, if it asks for that mode (without parsing the rest). */
  public static Optional<GatewayApiTraffic> gatewayApiOf(ModelDeploymentSpec spec) {
    return Optional.ofNullable(spec.getRollout()).map(RolloutSpec::getTraffic).map(t -> t.getGatewayAPI());
  }

  /**
   * Whether the stable pods mirror requests to a canary, and how: when spec.rollout.shadow is set, a step is a
   * shadow step, or a predictionAgreement gate needs the comparisons.
   */
  public static Optional<ShadowSpec> shadowOf(ModelDeploymentSpec spec) {
    RolloutSpec r = spec.getRollout();
    if (r == null) {
      return Optional.empty();
    }
    if (r.getShadow() != null) {
      return Optional.of(r.getShadow());
    }
    boolean wanted = (r.getSteps() != null && r.getSteps().stream().anyMatch(RolloutStep::shadow))
        || (r.getAnalysis() != null && r.getAnalysis().getGates() != null
            && r.getAnalysis().getGates().stream().anyMatch(g -> g.getPredictionAgreement() != null));
    return wanted ? Optional.of(new ShadowSpec()) : Optional.empty();
  }

  public RolloutStep step(int index) {
    return steps.get(Math.min(index, steps.size() - 1));
  }

  public boolean isLastStep(int index) {
    return index >= steps.size() - 1;
  }

  public Duration pause(int index) {
    return Durations.parse(step(index).getPause(), Duration.ZERO);
  }
}
