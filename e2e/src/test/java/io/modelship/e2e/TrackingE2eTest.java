package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import io.modelship.server.testing.MlflowServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Registry-driven rollouts on the real cluster: a real {@code mlflow server} on the node, real pods fetching the
 * version the operator pinned through MLflow's artifact proxy. Moving the alias rolls the new version out by
 * itself, the outcome lands on the MLflow version as tags, a version still registering is not used, a scale-up
 * after the alias moved gets the pinned version, and bytes changed in place under a version are refused.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class TrackingE2eTest {
  private static final String NAMESPACE = "e2e-tracking";
  private static final String MODEL = "iris-registry";
  private static RealCluster cluster;
  private static MlflowServer mlflow;
  private static String runId;
  private static String artifactPath;

  @BeforeAll
  static void mlflowOnTheNode() throws Exception {
    String reason = MlflowServer.unavailableReason().orElse(null);
    if (reason != null) {
      System.out.println("TrackingE2eTest skipped: " + reason);
    }
    Assumptions.assumeTrue(reason == null, reason);
    cluster = RealCluster.get();
    cluster.freshNamespace(NAMESPACE);
    mlflow = MlflowServer.start(Files.createTempDirectory("mlflow-e2e"), cluster.nodeIp);
    mlflow.post("registered-models/create", Map.of("name", MODEL));
    String experiment = mlflow.post("experiments/create", Map.of("name", MODEL)).path("experiment_id").asText();
    JsonNode run = mlflow.post("runs/create", Map.of("experiment_id", experiment)).path("run").path("info");
    runId = run.path("run_id").asText();
    artifactPath = run.path("artifact_uri").asText().substring("mlflow-artifacts:/".length());
  }

  @AfterAll
  static void stopMlflow() {
    if (mlflow != null) {
      mlflow.close();
    }
  }

  @Test
  void aMovedAliasRollsOutByItselfAndEveryPodOfARevisionServesItsPinnedVersion() throws Exception {
    version(1, new Mlp(4, 16, 1, 3, 51));
    version(2, new Mlp(4, 16, 1, 3, 52));
    alias(1);
    cluster.client().resource(Specs.errorRateGate(Specs.steps(Specs.mlflowAlias(NAMESPACE, "tracked", mlflow.uri,
        MODEL, "champion", "10s", 2), 50, "10s", 100, null), "2s", 10, 0.05)).create();
    var mdep = new Mdeps(cluster, NAMESPACE, "tracked");
    await("version 1 stable").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
      assertThat(mdep.phase()).isEqualTo(Phase.Stable);
      assertThat(mdep.stable().getModelVersion()).isEqualTo("1");
    });
    assertThat(mdep.status().getTracking().getVersion()).isEqualTo("1");

    try (Traffic traffic = new Traffic(mdep.clusterIp(), "tracked", Traffic.IRIS_BODY, 20, 16)) {
      List<String> before = mdep.revisionDeployments();
      Instant moved = Instant.now();
      alias(2);
      await("a canary of version 2 by itself").atMost(Duration.ofSeconds(60))
          .untilAsserted(() -> assertThat(mdep.revisionDeployments()).hasSize(2));
      long toCanary = Duration.between(moved, Instant.now()).toMillis();
      String canary = mdep.revisionDeployments().stream().filter(d -> !before.contains(d)).findFirst().orElseThrow();
      await("the canary's first pod").atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(podsOf(canary)).isNotEmpty());
      long toPod = Duration.between(moved, Instant.now()).toMillis();
      RealCluster.progress("alias moved -> canary Deployment %d ms, first pod %d ms (interval 10 s)".formatted(toCanary, toPod));
      assertThat(mdep.reasons()).contains("AliasMoved");

      await("version 2 promoted").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
        assertThat(mdep.phase()).isEqualTo(Phase.Stable);
        assertThat(mdep.status().getHistory()).first().satisfies(h -> {
          assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted);
          assertThat(h.getModelVersion()).isEqualTo("2");
        });
      });
      await("the outcome on the MLflow version").atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(tags(2)).containsEntry("modelship.io/outcome", "promoted")
              .containsEntry("modelship.io/model-deployment", NAMESPACE + "/tracked"));
      RealCluster.progress("answers across the alias move: " + traffic.answers());
      assertThat(traffic.failures()).as("client-visible failures: %s", traffic.failureSamples()).isZero();
    }

    // A version still registering is not used; a scale-up meanwhile gets the pinned version 2.
    version(3, new Mlp(4, 16, 1, 3, 53));
    mlflow.setStatus(MODEL, 3, "PENDING_REGISTRATION", "copying");
    alias(3);
    await("version 3 noticed and not used").atMost(Duration.ofSeconds(60)).untilAsserted(() ->
        assertThat(mdep.condition("SourceTracked", "reason")).isEqualTo("VersionNotReady"));
    String stable = mdep.revisionDeployments().get(0);
    mdep.edit(m -> m.getSpec().setReplicas(3));
    await("three pods of version 2").atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
      assertThat(mdep.stable().getReadyReplicas()).isEqualTo(3);
      assertThat(podsOf(stable)).hasSize(3).allSatisfy(p -> assertThat(fetchReport(p)).contains("\"modelVersion\":\"2\""));
    });
    assertThat(mdep.revisionDeployments()).containsExactly(stable);

    // Version 2's bytes replaced under the same version: the next pod of the revision refuses them.
    upload(2, new Mlp(4, 16, 1, 3, 99));
    mdep.edit(m -> m.getSpec().setReplicas(4));
    await("the fourth pod refuses the changed bytes").atMost(Duration.ofMinutes(2)).untilAsserted(() ->
        assertThat(podsOf(stable).stream().map(TrackingE2eTest::fetchReport))
            .anySatisfy(r -> assertThat(r).contains("the artifact changed under the same version")));
    assertThat(mdep.stable().getReadyReplicas()).isEqualTo(3);
    mdep.edit(m -> m.getSpec().setReplicas(3));
  }

  /** Registers version {@code n} of the model: an ONNX file uploaded through MLflow's artifact proxy. */
  private static void version(int n, Mlp mlp) throws Exception {
    upload(n, mlp);
    mlflow.post("model-versions/create", Map.of("name", MODEL, "run_id", runId,
        "source", "mlflow-artifacts:/" + artifactPath + "/v" + n + "/model.onnx"));
  }

  private static void upload(int n, Mlp mlp) throws Exception {
    Path dir = Files.createTempDirectory("model");
    mlflow.upload(artifactPath + "/v" + n + "/model.onnx", Files.readAllBytes(OnnxModels.writeMlp(dir, mlp)));
  }

  private static void alias(int version) throws Exception {
    mlflow.post("registered-models/alias", Map.of("name", MODEL, "alias", "champion", "version", Integer.toString(version)));
  }

  private static Map<String, String> tags(int version) throws Exception {
    HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
        mlflow.uri + "/api/2.0/mlflow/model-versions/get?name=" + MODEL + "&version=" + version)).build(),
        HttpResponse.BodyHandlers.ofString());
    Map<String, String> tags = new HashMap<>();
    new com.fasterxml.jackson.databind.ObjectMapper().readTree(answer.body()).path("model_version").path("tags")
        .forEach(t -> tags.put(t.path("key").asText(), t.path("value").asText()));
    return tags;
  }

  private static List<Pod> podsOf(String deployment) {
    return cluster.client().pods().inNamespace(NAMESPACE).list().getItems().stream()
        .filter(p -> p.getMetadata().getName().startsWith(deployment + "-"))
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null).toList();
  }

  /** What a pod's fetch step reported, success or failure, as the kubelet keeps it; empty while it runs. */
  private static String fetchReport(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getInitContainerStatuses() == null) {
      return "";
    }
    return pod.getStatus().getInitContainerStatuses().stream().filter(s -> "fetch".equals(s.getName()))
        .flatMap((ContainerStatus s) -> Stream.of(s.getState(), s.getLastState()))
        .filter(Objects::nonNull).map(s -> s.getTerminated()).filter(Objects::nonNull)
        .map(t -> Objects.requireNonNullElse(t.getMessage(), "")).findFirst().orElse("");
  }
}
