package io.modelship.operator.api.status;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What one live revision is, as observed: the artifact it resolved to and how many of its pods are ready. */
public class RevisionStatus {
  @JsonPropertyDescription("Revision name: a hash of the source and the pod-shaping spec.")
  private String revision;

  @JsonPropertyDescription("Model version the artifact resolved to (e.g. the MLflow version number), as reported by the fetch step.")
  private String modelVersion;

  @JsonPropertyDescription("The model version when the source has one, else the revision: what kubectl get mdep shows.")
  private String version;

  @JsonPropertyDescription("Where the artifact was downloaded from.")
  private String artifactUri;

  @JsonPropertyDescription("SHA-256 of the artifact that was loaded.")
  private String digest;

  @JsonPropertyDescription("Set when this revision was rolled out in place: the revision whose pods hold it (their Deployment and pods carry that revision's name).")
  private String host;

  @JsonPropertyDescription("Pods this revision should have.")
  private Integer replicas;

  @JsonPropertyDescription("Pods of this revision that are ready (model loaded and warmed up).")
  private Integer readyReplicas;

  public String getRevision() { return revision; }
  public void setRevision(String revision) { this.revision = revision; }
  public String getModelVersion() { return modelVersion; }
  public void setModelVersion(String modelVersion) { this.modelVersion = modelVersion; }
  public String getVersion() { return version; }
  public void setVersion(String version) { this.version = version; }
  public String getArtifactUri() { return artifactUri; }
  public void setArtifactUri(String artifactUri) { this.artifactUri = artifactUri; }
  public String getDigest() { return digest; }
  public void setDigest(String digest) { this.digest = digest; }
  public String getHost() { return host; }
  public void setHost(String host) { this.host = host; }
  public Integer getReplicas() { return replicas; }
  public void setReplicas(Integer replicas) { this.replicas = replicas; }
  public Integer getReadyReplicas() { return readyReplicas; }
  public void setReadyReplicas(Integer readyReplicas) { this.readyReplicas = readyReplicas; }
}
