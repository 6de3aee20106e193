package io.modelship.operator.api.status;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One pod of an in-place canary: where it stands with the new version. */
public class PodVersionStatus {
  @JsonPropertyDescription("The pod.")
  private String pod;

  @JsonPropertyDescription("FETCHING, LOADING, WARMING_UP, READY, FAILED or UNLOADING, as the pod's model server reports it; UNREACHABLE when it did not answer; ABSENT before it was told.")
  private String state;

  @JsonPropertyDescription("Percent of the pod's unversioned requests the new version takes there.")
  private Integer weight;

  @JsonPropertyDescription("Why, when the version failed in this pod.")
  private String message;

  public PodVersionStatus() {}

  public PodVersionStatus(String pod, String state, Integer weight, String message) {
    this.pod = pod;
    this.state = state;
    this.weight = weight;
    this.message = message;
  }

  public String getPod() { return pod; }
  public void setPod(String pod) { this.pod = pod; }
  public String getState() { return state; }
  public void setState(String state) { this.state = state; }
  public Integer getWeight() { return weight; }
  public void setWeight(Integer weight) { this.weight = weight; }
  public String getMessage() { return message; }
  public void setMessage(String message) { this.message = message; }
}
