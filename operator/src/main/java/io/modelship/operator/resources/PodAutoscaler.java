package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpecBuilder;
import io.modelship.operator.analysis.ServerMetricNames;
import io.modelship.operator.api.CrdConstants;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.AutoscalingSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The HorizontalPodAutoscaler {@code <name>} of a ModelDeployment with spec.autoscaling. It targets the
 * ModelDeployment itself through its scale subresource, not a Deployment: it averages its metric over every
 * model-server pod (status.selector), stable and canary alike, and writes the pod count to spec.replicas, which
 * the operator splits between the revisions by the step's weight. One object for the ModelDeployment's life: a
 * rollout never has to move it from the old revision's Deployment to the new one's, as an autoscaler per
 * Deployment would, and the two never scale against each other mid-rollout.
 */
public final class PodAutoscaler {
  private PodAutoscaler() {}

  /** The autoscaler this ModelDeployment asks for, or empty when it asks for fixed replicas. */
  public static Optional<HorizontalPodAutoscaler> desired(ModelDeployment mdep) {
    AutoscalingSpec spec = mdep.getSpec().getAutoscaling();
    if (spec == null) {
      return Optional.empty();
    }
    String name = mdep.getMetadata().getName();
    return Optional.of(new HorizontalPodAutoscalerBuilder()
        .withMetadata(Labels.owned(mdep, name, Labels.forDeployment(mdep)))
        .withNewSpec()
        .withNewScaleTargetRef(CrdConstants.API_VERSION, CrdConstants.KIND, name)
        .withMinReplicas(AutoscalingSpec.minReplicasOf(spec))
        .withMaxReplicas(spec.getMaxReplicas())
        .withMetrics(metric(spec))
        .endSpec()
        .build());
  }

  /**
   * Whether an update of an autoscaler matters to its ModelDeployment: its spec, the count it asks for, or whether it
   * can scale (its conditions' verdicts). Its controller rewrites the rest of its status with every metric it reads.
   */
  public static boolean changed(HorizontalPodAutoscaler now, HorizontalPodAutoscaler before) {
    return !Objects.equals(now.getMetadata().getGeneration(), before.getMetadata().getGeneration())
        || !verdict(now).equals(verdict(before));
  }

  private static List<String> verdict(HorizontalPodAutoscaler hpa) {
    if (hpa.getStatus() == null) {
      return List.of();
    }
    List<String> parts = new ArrayList<>();
    parts.add(String.valueOf(hpa.getStatus().getDesiredReplicas()));
    if (hpa.getStatus().getConditions() != null) {
      hpa.getStatus().getConditions().forEach(c -> parts.add(c.getType() + "=" + c.getStatus() + "/" + c.getReason()));
    }
    return parts;
  }

  /** The model server's gauge a per-pod metric reads (inFlight, queueDepth); empty for cpu. */
  public static Optional<String> serverMetric(String metric) {
    return switch (metric) {
      case AutoscalingSpec.IN_FLIGHT -> Optional.of(ServerMetricNames.IN_FLIGHT);
      case AutoscalingSpec.QUEUE_DEPTH -> Optional.of(ServerMetricNames.QUEUE_DEPTH);
      default -> Optional.empty();
    };
  }

  static MetricSpec metric(AutoscalingSpec spec) {
    return serverMetric(AutoscalingSpec.metricOf(spec)).map(gauge -> perPod(gauge, spec.getTarget()))
        .orElseGet(() -> new MetricSpecBuilder().withType("Resource")
          .withNewResource().withName("cpu")
          .withNewTarget().withType("Utilization")
          .withAverageUtilization(spec.getTarget() != null ? spec.getTarget() : AutoscalingSpec.DEFAULT_CPU_TARGET)
          .endTarget().endResource().build());
  }

  private static MetricSpec perPod(String metricName, Integer target) {
    return new MetricSpecBuilder().withType("Pods")
        .withNewPods().withNewMetric().withName(metricName).endMetric()
        .withNewTarget().withType("AverageValue").withAverageValue(new Quantity(String.valueOf(target))).endTarget()
        .endPods().build();
  }
}
