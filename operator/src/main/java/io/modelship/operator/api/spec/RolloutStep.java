package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

public class RolloutStep {
  @Required
  @Min(1)
  @Max(100)
  @JsonPropertyDescription("Percent of traffic the canary gets during this step.")
  private Integer weight;

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
}
