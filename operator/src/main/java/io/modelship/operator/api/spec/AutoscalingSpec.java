package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * A HorizontalPodAutoscaler over the whole ModelDeployment: it writes spec.replicas through the scale subresource,
 * and the operator splits that count between the stable and the canary revision by the step's weight.
 */
@ValidationRule(value = "!has(self.minReplicas) || self.minReplicas <= self.maxReplicas",
    message = "minReplicas must not be more than maxReplicas")
@ValidationRule(value = "!has(self.metric) || self.metric == 'cpu' || has(self.target)",
    message = "set target for metric inFlight or queueDepth: the average per pod to keep, e.g. 8")
public class AutoscalingSpec {
  public static final String CPU = "cpu";
  public static final String IN_FLIGHT = "inFlight";
  public static final String QUEUE_DEPTH = "queueDepth";
  /** The CPU utilisation kept when target is not set, in percent of the pods' CPU request (KServe's default). */
  public static final int DEFAULT_CPU_TARGET = 80;

  @Min(1)
  @Max(1000)
  @Default("1")
  @JsonPropertyDescription("Fewest pods the autoscaler keeps. Default 1.")
  private Integer minReplicas = 1;

  @Required
  @Min(1)
  @Max(1000)
  @JsonPropertyDescription("Most pods the autoscaler may ask for (a rollout's surge comes on top).")
  private Integer maxReplicas;

  @Pattern("^(cpu|inFlight|queueDepth)$")
  @Default("cpu")
  @JsonPropertyDescription("What to scale on. cpu (default): CPU utilisation, in percent of spec.resources.cpu (which "
      + "must be set), read from the resource metrics API (metrics-server). inFlight: inference requests a pod holds "
      + "(the modelship_inference_in_flight gauge); queueDepth: requests waiting in a pod's batching queues (the "
      + "modelship_inference_queue_depth gauge, summed over its model versions): both per pod, read from the custom "
      + "metrics API (e.g. prometheus-adapter serving those gauges under the same names).")
  private String metric = CPU;

  @Min(1)
  @Max(100000)
  @JsonPropertyDescription("The average per pod the autoscaler keeps: a percentage of the CPU request for cpu (default "
      + "80), a count of requests for inFlight and queueDepth (required there).")
  private Integer target;

  /** The fewest pods, 1 when not set. Static, so the CRD generator does not take it for a property. */
  public static int minReplicasOf(AutoscalingSpec spec) {
    return spec.getMinReplicas() != null ? spec.getMinReplicas() : 1;
  }

  /** The metric scaled on, cpu when not set. */
  public static String metricOf(AutoscalingSpec spec) {
    return spec.getMetric() != null ? spec.getMetric() : CPU;
  }

  public Integer getMinReplicas() { return minReplicas; }
  public void setMinReplicas(Integer minReplicas) { this.minReplicas = minReplicas; }
  public Integer getMaxReplicas() { return maxReplicas; }
  public void setMaxReplicas(Integer maxReplicas) { this.maxReplicas = maxReplicas; }
  public String getMetric() { return metric; }
  public void setMetric(String metric) { this.metric = metric; }
  public Integer getTarget() { return target; }
  public void setTarget(Integer target) { this.target = target; }
}
