package io.modelship.operator.api.status;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/** The revision being rolled out: where it stands in its steps and what the gates last said. */
public class CanaryStatus extends RevisionStatus {
  @JsonPropertyDescription("Index of the current step in spec.rollout.steps.")
  private Integer step;

  @JsonPropertyDescription("Percent of traffic the canary receives now, as observed (service mode: its share of ready pods).")
  private Integer weight;

  @JsonPropertyDescription("When the rollout of this revision began.")
  private String startedAt;

  @JsonPropertyDescription("When the current step began, or when it last made progress.")
  private String stepStartedAt;

  @JsonPropertyDescription("When the canary first had every ready pod the current step asks for: its pause and its gates count from here.")
  private String stepReachedAt;

  @JsonPropertyDescription("Consecutive analysis intervals with a failed gate.")
  private Integer consecutiveFailures;

  @JsonPropertyDescription("Since when canary pods wait for a node with free GPUs, when they do.")
  private String waitingForCapacitySince;

  @JsonPropertyDescription("Why the canary is being promoted, once it is: every step passed, or the modelship.io/promote annotation.")
  private String promotedBecause;

  @JsonPropertyDescription("An in-place canary, while its pods disagree: where each pod stands with the new version.")
  private List<PodVersionStatus> pods;

  @JsonPropertyDescription("The latest verdict of every gate.")
  private List<GateResultStatus> analysis = new ArrayList<>();

  public Integer getStep() { return step; }
  public void setStep(Integer step) { this.step = step; }
  public Integer getWeight() { return weight; }
  public void setWeight(Integer weight) { this.weight = weight; }
  public String getStartedAt() { return startedAt; }
  public void setStartedAt(String startedAt) { this.startedAt = startedAt; }
  public String getStepStartedAt() { return stepStartedAt; }
  public void setStepStartedAt(String stepStartedAt) { this.stepStartedAt = stepStartedAt; }
  public String getStepReachedAt() { return stepReachedAt; }
  public void setStepReachedAt(String stepReachedAt) { this.stepReachedAt = stepReachedAt; }
  public Integer getConsecutiveFailures() { return consecutiveFailures; }
  public void setConsecutiveFailures(Integer consecutiveFailures) { this.consecutiveFailures = consecutiveFailures; }
  public String getWaitingForCapacitySince() { return waitingForCapacitySince; }
  public void setWaitingForCapacitySince(String waitingForCapacitySince) { this.waitingForCapacitySince = waitingForCapacitySince; }
  public String getPromotedBecause() { return promotedBecause; }
  public void setPromotedBecause(String promotedBecause) { this.promotedBecause = promotedBecause; }
  public List<PodVersionStatus> getPods() { return pods; }
  public void setPods(List<PodVersionStatus> pods) { this.pods = pods; }
  public List<GateResultStatus> getAnalysis() { return analysis; }
  public void setAnalysis(List<GateResultStatus> analysis) { this.analysis = analysis; }
}
