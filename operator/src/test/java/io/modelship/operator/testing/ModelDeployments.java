package io.modelship.operator.testing;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.ModelDeploymentSpec;
import io.modelship.operator.api.spec.ModelSource;
import io.modelship.operator.api.spec.ModelSpec;
import io.modelship.operator.api.spec.S3Source;

/** Small ModelDeployments for tests, valid unless a test breaks them on purpose. */
public final class ModelDeployments {
  private ModelDeployments() {}

  /** Steps as weight/pause pairs, e.g. steps(mdep, 10, "30s", 50, "30s", 100, null). */
  public static ModelDeployment steps(ModelDeployment mdep, Object... weightPause) {
    var steps = new java.util.ArrayList<io.modelship.operator.api.spec.RolloutStep>();
    for (int i = 0; i < weightPause.length; i += 2) {
      steps.add(new io.modelship.operator.api.spec.RolloutStep((Integer) weightPause[i], (String) weightPause[i + 1]));
    }
    rollout(mdep).setSteps(steps);
    return mdep;
  }

  public static io.modelship.operator.api.spec.RolloutSpec rollout(ModelDeployment mdep) {
    if (mdep.getSpec().getRollout() == null) {
      mdep.getSpec().setRollout(new io.modelship.operator.api.spec.RolloutSpec());
    }
    return mdep.getSpec().getRollout();
  }

  /** A model following the MLflow alias {@code alias} of registered model {@code name}, read every {@code interval}. */
  public static ModelDeployment mlflowAlias(String name, String trackingUri, String alias, String interval) {
    ModelDeployment mdep = s3(name, "s3://unused/");
    var mlflow = new io.modelship.operator.api.spec.MlflowSource();
    mlflow.setTrackingUri(trackingUri);
    mlflow.setName(name);
    mlflow.setAlias(alias);
    var tracking = new io.modelship.operator.api.spec.TrackingSpec();
    tracking.setInterval(interval);
    var source = new ModelSource();
    source.setMlflow(mlflow);
    source.setTracking(tracking);
    mdep.getSpec().getModel().setSource(source);
    return mdep;
  }

  public static ModelDeployment s3(String name, String uri) {
    var s3 = new S3Source();
    s3.setUri(uri);
    var source = new ModelSource();
    source.setS3(s3);
    var model = new ModelSpec();
    model.setName(name);
    model.setSource(source);
    var spec = new ModelDeploymentSpec();
    spec.setModel(model);
    spec.setReplicas(2);
    var mdep = new ModelDeployment();
    mdep.setMetadata(new ObjectMetaBuilder().withName(name).build());
    mdep.setSpec(spec);
    return mdep;
  }
}
