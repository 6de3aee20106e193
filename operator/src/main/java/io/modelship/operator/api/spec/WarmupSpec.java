package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

public class WarmupSpec {
  @Min(0)
  @Max(10000)
  @JsonPropertyDescription("Inferences on synthetic inputs before the pod reports ready. Default 10; 0 turns warm-up off.")
  private Integer iterations;

  public Integer getIterations() { return iterations; }
  public void setIterations(Integer iterations) { this.iterations = iterations; }
}
