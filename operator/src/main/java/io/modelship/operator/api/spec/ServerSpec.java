package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.kubernetes.api.model.EnvVar;
import java.util.List;

public class ServerSpec {
  @JsonPropertyDescription("Model-server image to run instead of the operator's default (e.g. a GPU build).")
  private String image;

  @JsonPropertyDescription("Extra environment variables for the model-server container.")
  private List<EnvVar> env;

  @JsonPropertyDescription("Dynamic batching of concurrent requests.")
  private BatchingSpec batching;

  @JsonPropertyDescription("Inferences run before a pod reports ready, so the first real request is not slow.")
  private WarmupSpec warmup;

  @Pattern("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
  @JsonPropertyDescription("Secret in the same namespace whose key 'api-key' clients must send (header X-API-Key or Authorization: Bearer). Health and metrics stay open.")
  private String apiKeySecret;

  public String getImage() { return image; }
  public void setImage(String image) { this.image = image; }
  public List<EnvVar> getEnv() { return env; }
  public void setEnv(List<EnvVar> env) { this.env = env; }
  public BatchingSpec getBatching() { return batching; }
  public void setBatching(BatchingSpec batching) { this.batching = batching; }
  public WarmupSpec getWarmup() { return warmup; }
  public void setWarmup(WarmupSpec warmup) { this.warmup = warmup; }
  public String getApiKeySecret() { return apiKeySecret; }
  public void setApiKeySecret(String apiKeySecret) { this.apiKeySecret = apiKeySecret; }
}
