package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

public class RolloutSpec {
  @Size(min = 1, max = 10)
  @ValidationRule(value = "size(self) == 0 || self[size(self) - 1].weight == 100",
      message = "the last step must have weight 100")
  // Written out pair by pair (at most 10 steps): portable CEL, no list library needed.
  @ValidationRule(value = "(size(self) < 2 || self[1].weight > self[0].weight) && (size(self) < 3 || self[2].weight > self[1].weight) && (size(self) < 4 || self[3].weight > self[2].weight) && (size(self) < 5 || self[4].weight > self[3].weight) && (size(self) < 6 || self[5].weight > self[4].weight) && (size(self) < 7 || self[6].weight > self[5].weight) && (size(self) < 8 || self[7].weight > self[6].weight) && (size(self) < 9 || self[8].weight > self[7].weight) && (size(self) < 10 || self[9].weight > self[8].weight)",
      message = "step weights must increase from one step to the next, e.g. 10, 50, 100")
  @JsonPropertyDescription("Traffic steps for a new revision, in increasing weight, the last at 100. Default: 10 (1m), 50 (1m), 100.")
  private List<RolloutStep> steps;

  @Pattern("^(canary|inPlace)$")
  @JsonPropertyDescription("canary (default): the new revision gets pods of its own beside the stable ones. inPlace: a new model version is loaded beside the current one inside the running pods and traffic is split in each pod by the steps' weights, with the same gates; no pod is replaced and no extra pod or GPU is needed. A change that is not only the model's source or digest (image, resources, server settings, credentials Secret) still rolls out with new pods.")
  private String strategy;

  @JsonPropertyDescription("Settings of the inPlace strategy.")
  private InPlaceSpec inPlace;

  @JsonPropertyDescription("Health gates evaluated on the canary every interval; failureLimit consecutive failures roll back.")
  private AnalysisSpec analysis;

  @JsonPropertyDescription("How traffic is split between the stable and the canary revision. Default: service.")
  private TrafficSpec traffic;

  @JsonPropertyDescription("Shadow traffic: while a canary runs, the stable pods mirror requests to it and compare the answers (read by the predictionAgreement gate). On whenever this is set, a step is a shadow step, or a predictionAgreement gate is configured.")
  private ShadowSpec shadow;

  @Min(0)
  @Max(10)
  @JsonPropertyDescription("Extra pods allowed during a rollout. 0 is swap mode: the canary takes its pods (and GPUs) from the stable revision, so the total never exceeds spec.replicas. Default 1.")
  private Integer surge;

  @Pattern(Durations.PATTERN)
  @JsonPropertyDescription("How long a step may go without progress (pods ready, gates passing) before the rollout is rolled back, e.g. 10m. Default 10m.")
  private String progressDeadline;

  @Pattern(Durations.PATTERN)
  @JsonPropertyDescription("How long canary pods may wait for a node with free GPUs (e.g. while the cluster autoscaler adds one) before it counts as a failure. Default 30m.")
  private String schedulingDeadline;

  @JsonPropertyDescription("Hold the rollout at its current step. Annotations modelship.io/promote, modelship.io/abort and modelship.io/retry act on a rollout in any phase.")
  private Boolean paused;

  public String getStrategy() { return strategy; }
  public void setStrategy(String strategy) { this.strategy = strategy; }
  public InPlaceSpec getInPlace() { return inPlace; }
  public void setInPlace(InPlaceSpec inPlace) { this.inPlace = inPlace; }
  public List<RolloutStep> getSteps() { return steps; }
  public void setSteps(List<RolloutStep> steps) { this.steps = steps; }
  public AnalysisSpec getAnalysis() { return analysis; }
  public void setAnalysis(AnalysisSpec analysis) { this.analysis = analysis; }
  public ShadowSpec getShadow() { return shadow; }
  public void setShadow(ShadowSpec shadow) { this.shadow = shadow; }
  public TrafficSpec getTraffic() { return traffic; }
  public void setTraffic(TrafficSpec traffic) { this.traffic = traffic; }
  public Integer getSurge() { return surge; }
  public void setSurge(Integer surge) { this.surge = surge; }
  public String getProgressDeadline() { return progressDeadline; }
  public void setProgressDeadline(String progressDeadline) { this.progressDeadline = progressDeadline; }
  public String getSchedulingDeadline() { return schedulingDeadline; }
  public void setSchedulingDeadline(String schedulingDeadline) { this.schedulingDeadline = schedulingDeadline; }
  public Boolean getPaused() { return paused; }
  public void setPaused(Boolean paused) { this.paused = paused; }

  /** spec.rollout.inPlace. */
  public static class InPlaceSpec {
    @JsonPropertyDescription("When the new version does not fit beside the current one in a pod's memory (or GPU memory), roll it out with new pods instead of rolling back. Default false.")
    private Boolean fallbackToPods;

    public Boolean getFallbackToPods() { return fallbackToPods; }
    public void setFallbackToPods(Boolean fallbackToPods) { this.fallbackToPods = fallbackToPods; }
  }
}
