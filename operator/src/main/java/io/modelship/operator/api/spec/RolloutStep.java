package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

@io.fabric8.generator.annotation.ValidationRule(
    value = "has(self.shadow) && self.shadow ? self.weight == 0 : self.weight > 0",
    message = "a shadow step has weight 0 (the canary gets only mirrored requests); every other step a weight of 1 to 100")
public class RolloutStep {
  @Required
  @Min(0)
  @Max(100)
  @JsonPropertyDescription("Percent of traffic the canary gets during this step; 0 only for a shadow step.")
  private Integer weight;

  @JsonPropertyDescription("Shadow mode: the canary runs one pod that gets no client traffic, only requests the stable pods mirror to it, and is judged on them (predictionAgreement, errorRate) before any user sees its answers. Needs weight 0.")
  private Boolean shadow;

  @Pattern(Durations.PATTERN)
  @JsonPropertyDescription("Least time to stay at this step, with gates passing, before the next one, e.g. 1m. Default 0.")
  private String pause;

  public RolloutStep() {}

  public RolloutStep(int weight, String pause) {
    this.weight = weight;
    this.pause = pause;
  }

  public Integer getWeight() { return weight; }
  public void setWeight(Integer weight) { this.weight = weight; }
  public String getPause() { return pause; }
  public void setPause(String pause) { this.pause = pause; }
  public Boolean getShadow() { return shadow; }
  public void setShadow(Boolean shadow) { this.shadow = shadow; }
  public boolean shadow() { return Boolean.TRUE.equals(shadow); }
}
