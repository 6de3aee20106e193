package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.ValidationRule;

@ValidationRule(value = "has(self.s3) != has(self.mlflow)", message = "set exactly one of s3 or mlflow")
public class ModelSource {
  @JsonPropertyDescription("An object or prefix in S3 or an S3-compatible store.")
  private S3Source s3;

  @JsonPropertyDescription("A version of a model in an MLflow Model Registry, by number or by alias.")
  private MlflowSource mlflow;

  @JsonPropertyDescription("How often a moving source (mlflow.alias) is read again; a new READY version behind it starts a canary.")
  private TrackingSpec tracking;

  public S3Source getS3() { return s3; }
  public void setS3(S3Source s3) { this.s3 = s3; }
  public MlflowSource getMlflow() { return mlflow; }
  public void setMlflow(MlflowSource mlflow) { this.mlflow = mlflow; }
  public TrackingSpec getTracking() { return tracking; }
  public void setTracking(TrackingSpec tracking) { this.tracking = tracking; }
}
