package io.modelship.operator.api.status;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** How one rollout ended. */
public class HistoryEntry {
  @JsonPropertyDescription("The revision that was rolled out.")
  private String revision;

  @JsonPropertyDescription("Its model version.")
  private String modelVersion;

  @JsonPropertyDescription("Promoted, RolledBack or Aborted.")
  private Outcome outcome;

  @JsonPropertyDescription("Why, in words.")
  private String reason;

  @JsonPropertyDescription("When it ended.")
  private String at;

  public enum Outcome { Promoted, RolledBack, Aborted }

  public String getRevision() { return revision; }
  public void setRevision(String revision) { this.revision = revision; }
  public String getModelVersion() { return modelVersion; }
  public void setModelVersion(String modelVersion) { this.modelVersion = modelVersion; }
  public Outcome getOutcome() { return outcome; }
  public void setOutcome(Outcome outcome) { this.outcome = outcome; }
  public String getReason() { return reason; }
  public void setReason(String reason) { this.reason = reason; }
  public String getAt() { return at; }
  public void setAt(String at) { this.at = at; }
}
