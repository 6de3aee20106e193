package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;

/** How often a moving source (an MLflow alias) is read again to see whether it points to a new version. */
public class TrackingSpec {
  @Pattern(Durations.PATTERN)
  @JsonPropertyDescription("How often the registry is read, e.g. 30s (the default) or 5m; at least 10s. A jitter of up to a tenth is added so that many ModelDeployments do not read at once.")
  private String interval;

  public String getInterval() { return interval; }
  public void setInterval(String interval) { this.interval = interval; }
}
