package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Shadow mode on the real cluster: a new version is judged on what it predicts for real requests, mirrored by the
 * stable pods, before any client sees one of its answers. The same model agrees and is promoted; a model that
 * predicts otherwise is rolled back by the predictionAgreement gate, having answered no client.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class ShadowE2eTest {
  private static final String NAMESPACE = "e2e-shadow";
  private static final String BODIES = "{\"inputs\":[{\"name\":\"input\",\"shape\":[8,4],\"datatype\":\"FP32\","
      + "\"data\":[5.1,3.5,1.4,0.2,-1,2,0.5,3,0.1,-2,4,1,2,2,-3,0.7,6,1,1,-1,-0.5,0.5,2,2,3,-3,1,0,0.2,0.4,-4,1.5]}]}";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);

  @Test
  void aCanaryIsJudgedOnItsPredictionsBeforeAnyClientSeesThem() throws Exception {
    Mlp model = new Mlp(4, 16, 1, 3, 71);
    String v1 = ns.store().putMlp("shadow/1", model);
    ns.cluster().client().resource(Specs.shadowThenFull(Specs.s3(NAMESPACE, "shadow", ns.store(), v1, 2), "15s", 0.9, 100))
        .create();
    var mdep = new Mdeps(ns.cluster(), NAMESPACE, "shadow");
    await("v1 stable").atMost(Duration.ofMinutes(3)).untilAsserted(() -> assertThat(mdep.phase()).isEqualTo(Phase.Stable));

    try (Traffic traffic = new Traffic(mdep.clusterIp(), "shadow", BODIES, 20, 16)) {
      // The same model under another key: a new revision that agrees on every row.
      Map<String, Double> seen = new ConcurrentHashMap<>();
      mdep.newSource(ns.store().putMlp("shadow/2", model));
      await("the agreeing canary promoted").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
        agreement(mdep).ifPresent(v -> seen.put("agreeing", v));
        assertThat(mdep.phase()).isEqualTo(Phase.Stable);
        assertThat(mdep.status().getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
      });
      RealCluster.progress("agreeing canary: agreement %s, promoted".formatted(seen.get("agreeing")));
      assertThat(seen.get("agreeing")).isEqualTo(1.0);

      String stable = mdep.stable().getRevision();
      mdep.newSource(ns.store().putMlp("shadow/3", new Mlp(4, 16, 1, 3, 72)));
      String[] canary = new String[1];
      Instant[] readyAt = new Instant[1];
      await("the disagreeing canary rolled back").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
        var status = mdep.status();
        if (status.getCanary() != null) {
          canary[0] = status.getCanary().getRevision();
          if (readyAt[0] == null && status.getCanary().getStepReachedAt() != null) {
            readyAt[0] = Instant.now();
          }
        }
        agreement(mdep).ifPresent(v -> seen.put("disagreeing", v));
        assertThat(status.getHistory()).first().satisfies(h -> {
          assertThat(h.getOutcome()).isEqualTo(Outcome.RolledBack);
          assertThat(h.getReason()).contains("predictionAgreement");
        });
      });
      RealCluster.progress("disagreeing canary: agreement %s, rolled back %d s after its pod was ready; answers %s"
          .formatted(seen.get("disagreeing"), readyAt[0] == null ? -1 : Duration.between(readyAt[0], Instant.now()).toSeconds(),
              traffic.answers()));
      assertThat(mdep.stable().getRevision()).isEqualTo(stable);
      assertThat(canary[0]).isNotNull();
      assertThat(traffic.answered(canary[0])).as("answers clients got from the shadow canary").isZero();
      assertThat(traffic.failures()).as("client-visible failures: %s", traffic.failureSamples()).isZero();
    }
  }

  /**
   * The hard case: a new version that disagrees with the stable one on one row in ten, below a 95% bar. The
   * request body holds ten rows chosen (with ONNX Runtime, in this JVM) so that the two models agree on nine.
   */
  @Test
  void aCanaryThatDisagreesOnOneRowInTenIsRolledBack() throws Exception {
    Mlp stableModel = new Mlp(4, 16, 1, 3, 81);
    Mlp canaryModel = new Mlp(4, 16, 1, 3, 82);
    String body = tenRowsAgreeingOnNine(stableModel, canaryModel);
    String v1 = ns.store().putMlp("tenth/1", stableModel);
    ns.cluster().client().resource(Specs.shadowThenFull(Specs.s3(NAMESPACE, "tenth", ns.store(), v1, 2), "1m", 0.95, 200))
        .create();
    var mdep = new Mdeps(ns.cluster(), NAMESPACE, "tenth");
    await("v1 stable").atMost(Duration.ofMinutes(3)).untilAsserted(() -> assertThat(mdep.phase()).isEqualTo(Phase.Stable));

    try (Traffic traffic = new Traffic(mdep.clusterIp(), "tenth", body, 20, 16)) {
      mdep.newSource(ns.store().putMlp("tenth/2", canaryModel));
      Instant[] reached = new Instant[1];
      Double[] seen = new Double[1];
      await("rolled back").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
        var status = mdep.status();
        if (reached[0] == null && status.getCanary() != null && status.getCanary().getStepReachedAt() != null) {
          reached[0] = Instant.now();
        }
        agreement(mdep).ifPresent(v -> seen[0] = v);
        assertThat(status.getHistory()).first().satisfies(h -> {
          assertThat(h.getOutcome()).isEqualTo(Outcome.RolledBack);
          assertThat(h.getReason()).contains("predictionAgreement");
        });
      });
      RealCluster.progress("canary disagreeing on 1 row in 10: agreement %s, rolled back %d s after its shadow pod was ready"
          .formatted(seen[0], reached[0] == null ? -1 : Duration.between(reached[0], Instant.now()).toSeconds()));
      assertThat(seen[0]).isCloseTo(0.9, org.assertj.core.data.Offset.offset(0.01));
      assertThat(traffic.failures()).as("client-visible failures: %s", traffic.failureSamples()).isZero();
    }
  }

  /** A V2 body of ten rows on which the two models' top-1 answers agree nine times. */
  private static String tenRowsAgreeingOnNine(Mlp a, Mlp b) throws Exception {
    float[][] candidates = io.modelship.server.onnx.OnnxModels.mlpInputs(a, 400, 5);
    java.nio.file.Path dirA = java.nio.file.Files.createTempDirectory("mlp-a");
    java.nio.file.Path dirB = java.nio.file.Files.createTempDirectory("mlp-b");
    float[][] outA;
    float[][] outB;
    try (var ra = new io.modelship.server.onnx.OnnxReference(io.modelship.server.onnx.OnnxModels.writeMlp(dirA, a));
        var rb = new io.modelship.server.onnx.OnnxReference(io.modelship.server.onnx.OnnxModels.writeMlp(dirB, b))) {
      outA = ra.runFloat(Mlp.INPUT, candidates);
      outB = rb.runFloat(Mlp.INPUT, candidates);
    }
    java.util.List<float[]> agree = new java.util.ArrayList<>();
    java.util.List<float[]> differ = new java.util.ArrayList<>();
    for (int i = 0; i < candidates.length; i++) {
      (argmax(outA[i]) == argmax(outB[i]) ? agree : differ).add(candidates[i]);
    }
    if (agree.size() < 9 || differ.isEmpty()) {
      throw new IllegalStateException("the two models agree on %d and differ on %d rows: pick other seeds"
          .formatted(agree.size(), differ.size()));
    }
    StringBuilder data = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      for (float v : i < 9 ? agree.get(i) : differ.get(0)) {
        data.append(data.length() == 0 ? "" : ",").append(v);
      }
    }
    return "{\"inputs\":[{\"name\":\"input\",\"shape\":[10,4],\"datatype\":\"FP32\",\"data\":[" + data + "]}]}";
  }

  private static int argmax(float[] row) {
    int best = 0;
    for (int i = 1; i < row.length; i++) {
      if (row[i] > row[best]) {
        best = i;
      }
    }
    return best;
  }

  private static java.util.Optional<Double> agreement(Mdeps mdep) {
    var canary = mdep.status().getCanary();
    if (canary == null) {
      return java.util.Optional.empty();
    }
    return canary.getAnalysis().stream().filter(g -> "predictionAgreement".equals(g.getGate()))
        .map(GateResultStatus::getValue).filter(java.util.Objects::nonNull).findFirst();
  }
}
