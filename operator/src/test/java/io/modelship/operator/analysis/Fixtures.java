package io.modelship.operator.analysis;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.AnalysisSpec;
import io.modelship.operator.api.spec.GateSpec;
import io.modelship.operator.api.spec.ModelDeploymentSpec;
import io.modelship.operator.api.spec.ModelSpec;
import io.modelship.operator.api.spec.RolloutSpec;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.revision.PodContract;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/** ModelDeployments, pods and gate specs for the analysis tests. */
final class Fixtures {
  static final String NAMESPACE = "ml";
  static final String NAME = "sentiment";
  static final String MODEL = "sentiment";
  static final Instant NOW = Instant.parse("2026-11-24T10:15:30.250Z");

  private Fixtures() {}

  static ModelDeployment mdep(Integer minRequests, GateSpec... gates) {
    ModelSpec model = new ModelSpec();
    model.setName(MODEL);
    ModelDeploymentSpec spec = new ModelDeploymentSpec();
    spec.setModel(model);
    AnalysisSpec analysis = new AnalysisSpec();
    analysis.setMinRequests(minRequests);
    analysis.setGates(gates.length == 0 ? null : Arrays.asList(gates));
    RolloutSpec rollout = new RolloutSpec();
    rollout.setAnalysis(analysis);
    spec.setRollout(rollout);
    ModelDeployment mdep = new ModelDeployment();
    mdep.setMetadata(new ObjectMetaBuilder().withNamespace(NAMESPACE).withName(NAME).build());
    mdep.setSpec(spec);
    return mdep;
  }

  static Pod pod(String name, String ip, int port, int restarts) {
    return new PodBuilder()
        .withNewMetadata().withName(name).withNamespace(NAMESPACE).withUid("uid-" + name).endMetadata()
        .withNewSpec()
        .addNewContainer().withName(PodContract.SERVE_CONTAINER)
        .addNewPort().withName(PodContract.HTTP_PORT_NAME).withContainerPort(port).endPort()
        .endContainer()
        .endSpec()
        .withNewStatus().withPodIP(ip)
        .addNewContainerStatus().withName(PodContract.SERVE_CONTAINER).withRestartCount(restarts)
        .endContainerStatus()
        .endStatus()
        .build();
  }

  static Pod pod(String name) {
    return pod(name, "10.0.0.1", 8080, 0);
  }

  static AnalysisRequest request(ModelDeployment mdep, List<Pod> canary, List<Pod> stable) {
    return request(mdep, canary, stable, NOW);
  }

  static AnalysisRequest request(ModelDeployment mdep, List<Pod> canary, List<Pod> stable, Instant now) {
    return new AnalysisRequest(mdep, "c0ffee", canary, "5ab1e0", stable, now);
  }

  /** A pod whose Ready condition turned True at {@code readyAt}, as the kubelet records it (to the second). */
  static Pod readyPod(String name, Instant readyAt) {
    Pod pod = pod(name);
    pod.getStatus().setConditions(List.of(new io.fabric8.kubernetes.api.model.PodConditionBuilder()
        .withType("Ready").withStatus("True").withLastTransitionTime(readyAt.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString())
        .build()));
    return pod;
  }

  static GateSpec errorRate(double max) {
    GateSpec gate = new GateSpec();
    gate.setErrorRate(new GateSpec.ErrorRateGate());
    gate.getErrorRate().setMax(max);
    return gate;
  }

  static GateSpec latency(Double maxMs, Double maxRatio) {
    GateSpec gate = new GateSpec();
    gate.setLatencyP99(new GateSpec.LatencyGate());
    gate.getLatencyP99().setMaxMs(maxMs);
    gate.getLatencyP99().setMaxRatio(maxRatio);
    return gate;
  }

  static GateSpec prometheus(String address, String query, Double min, Double max) {
    GateSpec gate = new GateSpec();
    gate.setPrometheus(new GateSpec.PrometheusGate());
    gate.getPrometheus().setAddress(address);
    gate.getPrometheus().setQuery(query);
    gate.getPrometheus().setMin(min);
    gate.getPrometheus().setMax(max);
    return gate;
  }

  static GateSpec webhook(String url, String timeout) {
    GateSpec gate = new GateSpec();
    gate.setWebhook(new GateSpec.WebhookGate());
    gate.getWebhook().setUrl(url);
    gate.getWebhook().setTimeout(timeout);
    return gate;
  }

  static GateResultStatus gate(List<GateResultStatus> results, String name) {
    return results.stream().filter(r -> r.getGate().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no result for gate " + name + " in " + names(results)));
  }

  private static List<String> names(List<GateResultStatus> results) {
    return results.stream().map(GateResultStatus::getGate).toList();
  }
}
