package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.generator.annotation.Size;
import java.util.List;

public class AnalysisSpec {
  @Pattern(Durations.PATTERN)
  @ValidationRule(value = "duration(self) >= duration('1s')",
      message = "interval must be at least 1s: shorter scrapes every canary pod and writes status in a hot loop")
  @JsonPropertyDescription("How often the gates are evaluated, over the window since the last evaluation. Default 5s.")
  private String interval;

  @Min(0)
  @JsonPropertyDescription("Fewer canary requests than this in a window makes traffic gates Inconclusive (never Pass). Default 50.")
  private Integer minRequests;

  @Min(1)
  @Max(100)
  @JsonPropertyDescription("Consecutive failed evaluations that roll the canary back. Default 2. A decisive failure (most requests failing, none succeeding, a restart, a median many times the stable's) rolls back at once.")
  private Integer failureLimit;

  @Size(max = 10)
  @JsonPropertyDescription("Gates on the canary. Default: errorRate max 0.01 and latencyP99 maxRatio 2.0 against the stable revision.")
  private List<GateSpec> gates;

  public String getInterval() { return interval; }
  public void setInterval(String interval) { this.interval = interval; }
  public Integer getMinRequests() { return minRequests; }
  public void setMinRequests(Integer minRequests) { this.minRequests = minRequests; }
  public Integer getFailureLimit() { return failureLimit; }
  public void setFailureLimit(Integer failureLimit) { this.failureLimit = failureLimit; }
  public List<GateSpec> getGates() { return gates; }
  public void setGates(List<GateSpec> gates) { this.gates = gates; }
}
