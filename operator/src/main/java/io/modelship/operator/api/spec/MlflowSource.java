package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

@ValidationRule(value = "has(self.alias) != has(self.version)", message = "set exactly one of alias or version")
public class MlflowSource {
  @Required
  @Pattern("^https?://.+$")
  @JsonPropertyDescription("Base URL of the MLflow tracking server, e.g. http://mlflow.mlflow:5000.")
  private String trackingUri;

  @Required
  @Size(min = 1, max = 256)
  @JsonPropertyDescription("Registered model name in the MLflow Model Registry.")
  private String name;

  @Size(min = 1, max = 256)
  @JsonPropertyDescription("Registered-model alias to follow, e.g. champion. The operator resolves it to a READY version number, pins every revision to that number, and starts a canary when the alias moves (see source.tracking).")
  private String alias;

  @Pattern("^[1-9][0-9]*$")
  @JsonPropertyDescription("Exact model version number, e.g. \"7\".")
  private String version;

  @Pattern("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
  @JsonPropertyDescription("Secret in the same namespace with MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD.")
  private String credentialsSecret;

  public String getTrackingUri() { return trackingUri; }
  public void setTrackingUri(String trackingUri) { this.trackingUri = trackingUri; }
  public String getName() { return name; }
  public void setName(String name) { this.name = name; }
  public String getAlias() { return alias; }
  public void setAlias(String alias) { this.alias = alias; }
  public String getVersion() { return version; }
  public void setVersion(String version) { this.version = version; }
  public String getCredentialsSecret() { return credentialsSecret; }
  public void setCredentialsSecret(String credentialsSecret) { this.credentialsSecret = credentialsSecret; }
}
