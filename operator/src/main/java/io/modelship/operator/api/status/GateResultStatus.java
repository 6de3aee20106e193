package io.modelship.operator.api.status;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One gate's verdict over one analysis window. */
public class GateResultStatus {
  @JsonPropertyDescription("Gate name.")
  private String gate;

  @JsonPropertyDescription("Measured value; absent when there was nothing to measure.")
  private Double value;

  @JsonPropertyDescription("The threshold it was compared against.")
  private Double threshold;

  @JsonPropertyDescription("Pass, Fail or Inconclusive (too little traffic, or the source did not answer).")
  private Verdict verdict;

  @JsonPropertyDescription("What was measured, in words.")
  private String message;

  @JsonPropertyDescription("When the window ended.")
  private String at;

  @JsonPropertyDescription("True on a failure too plain to wait for failureLimit failed evaluations in a row (most canary requests failing, none succeeding, a restart, a typical latency many times the stable's): the canary is rolled back at once.")
  private Boolean decisive;

  public enum Verdict { Pass, Fail, Inconclusive }

  public String getGate() { return gate; }
  public void setGate(String gate) { this.gate = gate; }
  public Double getValue() { return value; }
  public void setValue(Double value) { this.value = value; }
  public Double getThreshold() { return threshold; }
  public void setThreshold(Double threshold) { this.threshold = threshold; }
  public Verdict getVerdict() { return verdict; }
  public void setVerdict(Verdict verdict) { this.verdict = verdict; }
  public String getMessage() { return message; }
  public void setMessage(String message) { this.message = message; }
  public String getAt() { return at; }
  public void setAt(String at) { this.at = at; }
  public Boolean getDecisive() { return decisive; }
  public void setDecisive(Boolean decisive) { this.decisive = decisive; }

  /** A Fail that rolls back without waiting for failureLimit. */
  public boolean decisiveFailure() {
    return verdict == Verdict.Fail && Boolean.TRUE.equals(decisive);
  }
}
