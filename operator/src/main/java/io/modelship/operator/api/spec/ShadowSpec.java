package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Shadow traffic during a rollout: which share of the stable pods' requests is mirrored to the canary, and how answers compare. */
public class ShadowSpec {
  @Min(0.01)
  @Max(1)
  @JsonPropertyDescription("Share of the stable pods' requests mirrored to the canary while it runs, e.g. 0.2. Default 1. Mirroring never delays or fails a client's request; samples the canary cannot take are dropped and counted.")
  private Double share;

  @Min(1)
  @JsonPropertyDescription("The most requests each stable pod mirrors per second, whatever its load: the mirror's cost stays bounded, and a gate needs far fewer samples than a busy pod answers. Default 100.")
  private Integer maxPerSecond;

  @JsonPropertyDescription("The output compared. Default: the model's first output.")
  private String output;

  @Min(0)
  @JsonPropertyDescription("For outputs of one value per row: the relative difference under which two answers agree. Default 0.001.")
  private Double tolerance;

  public Double getShare() { return share; }
  public void setShare(Double share) { this.share = share; }
  public Integer getMaxPerSecond() { return maxPerSecond; }
  public void setMaxPerSecond(Integer maxPerSecond) { this.maxPerSecond = maxPerSecond; }
  public String getOutput() { return output; }
  public void setOutput(String output) { this.output = output; }
  public Double getTolerance() { return tolerance; }
  public void setTolerance(Double tolerance) { this.tolerance = tolerance; }
}
