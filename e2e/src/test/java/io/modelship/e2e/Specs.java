package io.modelship.e2e;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.AnalysisSpec;
import io.modelship.operator.api.spec.GateSpec;
import io.modelship.operator.api.spec.ModelDeploymentSpec;
import io.modelship.operator.api.spec.ModelSource;
import io.modelship.operator.api.spec.ModelSpec;
import io.modelship.operator.api.spec.RolloutSpec;
import io.modelship.operator.api.spec.RolloutStep;
import io.modelship.operator.api.spec.S3Source;
import io.modelship.operator.api.spec.ServerSpec;
import io.modelship.operator.api.spec.WarmupSpec;
import java.util.ArrayList;
import java.util.List;

/** ModelDeployments as a user writes them, for the end-to-end tests: an S3 source in the test's model store. */
final class Specs {
  private Specs() {}

  static ModelDeployment s3(String namespace, String name, ModelStore store, String uri, int replicas) {
    var s3 = new S3Source();
    s3.setUri(uri);
    s3.setEndpoint(store != null ? store.endpoint : null);
    s3.setCredentialsSecret(ModelStore.SECRET);
    var source = new ModelSource();
    source.setS3(s3);
    var model = new ModelSpec();
    model.setName(name);
    model.setSource(source);
    var spec = new ModelDeploymentSpec();
    spec.setModel(model);
    spec.setReplicas(replicas);
    var warmup = new WarmupSpec();
    warmup.setIterations(3);
    var server = new ServerSpec();
    server.setWarmup(warmup);
    spec.setServer(server);
    var mdep = new ModelDeployment();
    mdep.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    mdep.setSpec(spec);
    return mdep;
  }

  /** A model that follows an MLflow alias, read again every {@code interval}. */
  static ModelDeployment mlflowAlias(String namespace, String name, String trackingUri, String model, String alias,
      String interval, int replicas) {
    ModelDeployment mdep = s3(namespace, name, null, "s3://unused/", replicas);
    var mlflow = new io.modelship.operator.api.spec.MlflowSource();
    mlflow.setTrackingUri(trackingUri);
    mlflow.setName(model);
    mlflow.setAlias(alias);
    var tracking = new io.modelship.operator.api.spec.TrackingSpec();
    tracking.setInterval(interval);
    var source = new ModelSource();
    source.setMlflow(mlflow);
    source.setTracking(tracking);
    mdep.getSpec().getModel().setSource(source);
    return mdep;
  }

  /** Steps as weight/pause pairs, e.g. steps(mdep, 10, "10s", 50, "10s", 100, null). */
  static ModelDeployment steps(ModelDeployment mdep, Object... weightPause) {
    List<RolloutStep> steps = new ArrayList<>();
    for (int i = 0; i < weightPause.length; i += 2) {
      steps.add(new RolloutStep((Integer) weightPause[i], (String) weightPause[i + 1]));
    }
    rollout(mdep).setSteps(steps);
    return mdep;
  }

  /** Gates evaluated every {@code interval} over at least {@code minRequests} requests: the error rate only. */
  static ModelDeployment errorRateGate(ModelDeployment mdep, String interval, int minRequests, double maxErrorRate) {
    var analysis = new AnalysisSpec();
    analysis.setInterval(interval);
    analysis.setMinRequests(minRequests);
    var gate = new GateSpec();
    var errorRate = new GateSpec.ErrorRateGate();
    errorRate.setMax(maxErrorRate);
    gate.setErrorRate(errorRate);
    analysis.setGates(List.of(gate));
    rollout(mdep).setAnalysis(analysis);
    return mdep;
  }

  /** A shadow step first (weight 0, the canary judged on mirrored requests only), then 100. */
  static ModelDeployment shadowThenFull(ModelDeployment mdep, String pause, double minAgreement, int minSamples) {
    var shadow = new RolloutStep(0, pause);
    shadow.setShadow(true);
    rollout(mdep).setSteps(List.of(shadow, new RolloutStep(100, null)));
    var analysis = new AnalysisSpec();
    analysis.setInterval("2s");
    analysis.setMinRequests(10);
    var agreement = new GateSpec();
    var gate = new GateSpec.PredictionAgreementGate();
    gate.setMin(minAgreement);
    gate.setMinSamples(minSamples);
    agreement.setPredictionAgreement(gate);
    analysis.setGates(List.of(agreement));
    rollout(mdep).setAnalysis(analysis);
    return mdep;
  }

  static RolloutSpec rollout(ModelDeployment mdep) {
    if (mdep.getSpec().getRollout() == null) {
      mdep.getSpec().setRollout(new RolloutSpec());
    }
    return mdep.getSpec().getRollout();
  }
}
