package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

@io.fabric8.generator.annotation.ValidationRule(value = "!has(self.version) || self.uri.endsWith('/')",
    message = "version: latest needs a prefix ending in '/', under which each version is a folder (s3://bucket/models/iris/)")
public class S3Source {
  @Required
  @Size(max = 1024)
  @Pattern("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
  @JsonPropertyDescription("s3://bucket/key for one file, or s3://bucket/prefix/ for every object under a prefix.")
  private String uri;

  @Pattern("^latest$")
  @JsonPropertyDescription("latest: the uri is a prefix laid out as <prefix>/<version>/; the operator serves the highest version (numbers compared as numbers, then semantic versions, then text), pins each revision to it, and starts a canary when a higher one appears (read every source.tracking.interval).")
  private String version;

  @Pattern("^https?://.+$")
  @JsonPropertyDescription("Endpoint of an S3-compatible store (MinIO, Ceph, ...); path-style addressing is used when set.")
  private String endpoint;

  @Pattern("^[a-z0-9-]+$")
  @JsonPropertyDescription("Region of the bucket.")
  private String region;

  @Pattern("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
  @JsonPropertyDescription("Secret in the same namespace with keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (optional AWS_SESSION_TOKEN). Without it the pod's own identity is used (IRSA, instance role).")
  private String credentialsSecret;

  public String getUri() { return uri; }
  public void setUri(String uri) { this.uri = uri; }
  public String getVersion() { return version; }
  public void setVersion(String version) { this.version = version; }
  public String getEndpoint() { return endpoint; }
  public void setEndpoint(String endpoint) { this.endpoint = endpoint; }
  public String getRegion() { return region; }
  public void setRegion(String region) { this.region = region; }
  public String getCredentialsSecret() { return credentialsSecret; }
  public void setCredentialsSecret(String credentialsSecret) { this.credentialsSecret = credentialsSecret; }
}
