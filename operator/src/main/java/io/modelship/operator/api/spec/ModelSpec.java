package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.Required;

public class ModelSpec {
  @Required
  @Size(max = 63)
  @Pattern("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
  @JsonPropertyDescription("Name the model is served under (the KServe v2 model name in /v2/models/{name}). Letters, digits, '_', '.', '-'; at most 63 characters.")
  private String name;

  @Required
  @JsonPropertyDescription("Where the versioned model artifact comes from: exactly one of s3 or mlflow.")
  private ModelSource source;

  @Pattern("^[a-f0-9]{64}$")
  @JsonPropertyDescription("Expected SHA-256 of the artifact (64 lowercase hex characters), verified before the model is loaded. For a directory, the SHA-256 of its sha256sum manifest sorted by path (see docs/pod-contract.md).")
  private String sha256;

  public String getName() { return name; }
  public void setName(String name) { this.name = name; }
  public ModelSource getSource() { return source; }
  public void setSource(ModelSource source) { this.source = source; }
  public String getSha256() { return sha256; }
  public void setSha256(String sha256) { this.sha256 = sha256; }
}
