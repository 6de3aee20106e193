package io.modelship.operator.api.status;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What the operator last read from a moving source (an MLflow alias), and the exact version it pinned from it. */
public class TrackingStatus {
  @JsonPropertyDescription("The moving source that is tracked, e.g. models:/iris@champion.")
  private String source;

  @JsonPropertyDescription("The registry it is read from (the MLflow tracking URI).")
  private String registry;

  @JsonPropertyDescription("The exact version the source resolved to (READY versions only); revisions are made of this version, never of the alias.")
  private String version;

  @JsonPropertyDescription("When the registry was last read successfully (RFC 3339).")
  private String readAt;

  @JsonPropertyDescription("When the registry is read next (RFC 3339).")
  private String nextReadAt;

  @JsonPropertyDescription("Reads that failed in a row; each one doubles the wait before the next, up to the interval.")
  private Integer failures;

  @JsonPropertyDescription("Why the last read did not move the version: the registry could not be read, or the new version is not READY.")
  private String message;

  public String getSource() { return source; }
  public void setSource(String source) { this.source = source; }
  public String getRegistry() { return registry; }
  public void setRegistry(String registry) { this.registry = registry; }
  public String getVersion() { return version; }
  public void setVersion(String version) { this.version = version; }
  public String getReadAt() { return readAt; }
  public void setReadAt(String readAt) { this.readAt = readAt; }
  public String getNextReadAt() { return nextReadAt; }
  public void setNextReadAt(String nextReadAt) { this.nextReadAt = nextReadAt; }
  public Integer getFailures() { return failures; }
  public void setFailures(Integer failures) { this.failures = failures; }
  public String getMessage() { return message; }
  public void setMessage(String message) { this.message = message; }
}
