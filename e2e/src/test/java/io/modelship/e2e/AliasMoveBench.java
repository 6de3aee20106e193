package io.modelship.e2e;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import io.modelship.server.testing.MlflowServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * How long after an MLflow alias moves the canary's first pod is created, at the default tracking interval (30 s,
 * plus up to 3 s of jitter), over {@code bench.moves} moves (default 10) made at random points of the cycle, on the
 * real cluster with a real
 * {@code mlflow server} on the node. Run by {@code bench/alias-move.sh}; not a test (surefire runs it only when
 * named); writes results.md to {@code bench.out}.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class AliasMoveBench {
  private static final String NAMESPACE = "bench-alias";
  private static final String MODEL = "iris-alias";

  @Test
  void aliasMoves() throws Exception {
    int moves = Integer.getInteger("bench.moves", 10);
    Path out = Path.of(System.getProperty("bench.out", "target/bench/alias-move"));
    Files.createDirectories(out);
    RealCluster cluster = RealCluster.get();
    cluster.freshNamespace(NAMESPACE);
    try (MlflowServer mlflow = MlflowServer.start(Files.createTempDirectory("mlflow-bench"), cluster.nodeIp)) {
      mlflow.post("registered-models/create", Map.of("name", MODEL));
      String experiment = mlflow.post("experiments/create", Map.of("name", MODEL)).path("experiment_id").asText();
      JsonNode run = mlflow.post("runs/create", Map.of("experiment_id", experiment)).path("run").path("info");
      String artifacts = run.path("artifact_uri").asText().substring("mlflow-artifacts:/".length());
      for (int v = 1; v <= moves + 1; v++) {
        Path dir = Files.createTempDirectory("model");
        mlflow.upload(artifacts + "/v" + v + "/model.onnx",
            Files.readAllBytes(OnnxModels.writeMlp(dir, new Mlp(4, 16, 1, 3, 100 + v))));
        mlflow.post("model-versions/create", Map.of("name", MODEL, "run_id", run.path("run_id").asText(),
            "source", "mlflow-artifacts:/" + artifacts + "/v" + v + "/model.onnx"));
      }
      alias(mlflow, 1);
      // The default interval: no source.tracking in the spec.
      var spec = Specs.errorRateGate(Specs.steps(Specs.mlflowAlias(NAMESPACE, "tracked", mlflow.uri, MODEL, "champion",
          "30s", 2), 100, null), "2s", 10, 0.05);
      spec.getSpec().getModel().getSource().setTracking(null);
      cluster.client().resource(spec).create();
      var mdep = new Mdeps(cluster, NAMESPACE, "tracked");
      // untilAsserted: Mdeps throws AssertionError until the operator has written a status.
      await().atMost(Duration.ofMinutes(3)).untilAsserted(() -> org.assertj.core.api.Assertions.assertThat(mdep.phase())
          .isEqualTo(Phase.Stable));
      List<long[]> results = new ArrayList<>();
      try (Traffic traffic = new Traffic(mdep.clusterIp(), "tracked", Traffic.IRIS_BODY, 20, 8)) {
        java.util.Random phase = new java.util.Random(11);
        for (int v = 2; v <= moves + 1; v++) {
          // At a random point of the tracking cycle: moving right after the last promotion would always land at
          // the same phase of it, and measure that phase rather than the interval.
          long wait = phase.nextInt(33_000);
          long until = System.nanoTime() + wait * 1_000_000;
          await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100)).until(() -> System.nanoTime() >= until);
          List<String> before = mdep.revisionDeployments();
          long moved = System.nanoTime();
          alias(mlflow, v);
          await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
              .until(() -> mdep.revisionDeployments().stream().anyMatch(d -> !before.contains(d)));
          long deployment = System.nanoTime() - moved;
          String canary = mdep.revisionDeployments().stream().filter(d -> !before.contains(d)).findFirst().orElseThrow();
          await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
              .until(() -> cluster.client().pods().inNamespace(NAMESPACE).list().getItems().stream()
                  .anyMatch(p -> p.getMetadata().getName().startsWith(canary + "-")));
          long pod = System.nanoTime() - moved;
          results.add(new long[] {v, deployment / 1_000_000, pod / 1_000_000});
          RealCluster.progress("move %d: canary Deployment %d ms, first pod %d ms".formatted(v - 1,
              deployment / 1_000_000, pod / 1_000_000));
          String version = Integer.toString(v);
          await().atMost(Duration.ofMinutes(3)).until(() -> mdep.phase() == Phase.Stable
              && version.equals(mdep.stable().getModelVersion()));
        }
        RealCluster.progress("answers: " + traffic.answers() + ", client failures " + traffic.failures());
      }
      List<Long> pods = results.stream().map(r -> r[2]).sorted().toList();
      long median = pods.size() % 2 == 1 ? pods.get(pods.size() / 2)
          : (pods.get(pods.size() / 2 - 1) + pods.get(pods.size() / 2)) / 2;
      StringBuilder md = new StringBuilder("## Alias move to the canary's first pod (default interval 30 s + up to 3 s jitter)\n\n"
          + "| move | to version | canary Deployment (ms) | first pod (ms) |\n|---|---|---|---|\n");
      for (int i = 0; i < results.size(); i++) {
        md.append("| %d | %d | %d | %d |\n".formatted(i + 1, results.get(i)[0], results.get(i)[1], results.get(i)[2]));
      }
      md.append("\nFirst pod: median %d ms, max %d ms over %d moves (goal: at most interval + 5 s = 35,000 ms).\n"
          .formatted(median, pods.get(pods.size() - 1), pods.size()));
      Files.writeString(out.resolve("results.md"), md);
      RealCluster.progress(md.toString());
    }
  }

  private static void alias(MlflowServer mlflow, int version) throws Exception {
    mlflow.post("registered-models/alias", Map.of("name", MODEL, "alias", "champion", "version", Integer.toString(version)));
  }
}
