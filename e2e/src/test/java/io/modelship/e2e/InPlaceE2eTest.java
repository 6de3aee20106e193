package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * spec.rollout.strategy inPlace on a real cluster, with real traffic through the client Service: v2 is loaded
 * beside v1 inside the running pods, goes 50 % -> 100 % and is promoted, and a v3 that fails every request is
 * rolled back by its error-rate gate, with no pod created, replaced or restarted and no client error while a
 * healthy version moves in.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class InPlaceE2eTest {
  private static final String NAMESPACE = "e2e-inplace";
  private static RealCluster cluster;
  private static ModelStore store;

  @BeforeAll
  static void namespace() throws Exception {
    cluster = RealCluster.get();
    store = ModelStore.inFreshNamespace(cluster, NAMESPACE);
  }

  @AfterAll
  static void cleanUp() throws Exception {
    if (store != null) {
      store.close();
    }
  }

  /** Pod uid by name, with the model-server container's restarts: what must not change in place. */
  private static Map<String, String> pods() {
    return cluster.client().pods().inNamespace(NAMESPACE).withLabel("modelship.io/deployment", "iris").list()
        .getItems().stream().collect(Collectors.toMap(p -> p.getMetadata().getName(), InPlaceE2eTest::identity));
  }

  private static String identity(Pod pod) {
    int restarts = pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null ? 0
        : pod.getStatus().getContainerStatuses().stream().mapToInt(s -> s.getRestartCount() == null ? 0 : s.getRestartCount()).sum();
    return pod.getMetadata().getUid() + " restarts=" + restarts;
  }

  @Test
  void v2MovesIntoTheRunningPodsAndABrokenV3IsRolledBackThere() throws Exception {
    String v1 = store.putMlp("inplace/1", new Mlp(4, 16, 1, 3, 11));
    String v2 = store.putMlp("inplace/2", new Mlp(4, 16, 1, 3, 12));
    String v3 = store.putFailing("inplace/3");
    var mdep = Specs.errorRateGate(Specs.steps(Specs.s3(NAMESPACE, "iris", store, v1, 2),
        50, "10s", 100, null), "2s", 10, 0.05);
    Specs.rollout(mdep).setStrategy("inPlace");
    cluster.client().resource(mdep).create();
    var iris = new Mdeps(cluster, NAMESPACE, "iris");
    await("v1 stable").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
      assertThat(iris.phase()).isEqualTo(Phase.Stable);
      assertThat(iris.stable().getReadyReplicas()).isEqualTo(2);
    });
    String v1Revision = iris.stable().getRevision();
    Map<String, String> podsAtStart = pods();
    assertThat(podsAtStart).hasSize(2);

    try (Traffic traffic = new Traffic(iris.clusterIp(), "iris", Traffic.IRIS_BODY, 20, 16)) {
      await("traffic answered by v1").atMost(Duration.ofMinutes(1))
          .untilAsserted(() -> assertThat(traffic.answered(v1Revision)).isGreaterThan(20));
      long started = System.nanoTime();
      iris.newSource(v2);
      await("v2 runs in place").atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
        assertThat(iris.canary().getHost()).isEqualTo(v1Revision);
        assertThat(iris.canary().getStepReachedAt()).isNotNull();
      });
      String v2Revision = iris.canary().getRevision();
      await("v2 promoted in place").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
        assertThat(iris.phase()).isEqualTo(Phase.Stable);
        assertThat(iris.stable().getRevision()).isEqualTo(v2Revision);
        assertThat(iris.stable().getHost()).isEqualTo(v1Revision);
      });
      RealCluster.progress("v2 promoted in place in %.1f s; answers: %s".formatted(
          (System.nanoTime() - started) / 1e9, traffic.answers()));
      assertThat(iris.reasons()).contains("RolloutStarted", "StepAdvanced", "Promoting", "Promoted");
      assertThat(traffic.failures()).as("client-visible failures while v2 moved in: %s", traffic.failureSamples())
          .isZero();
      assertThat(traffic.answered(v2Revision)).isPositive();
      await("v2 answers everything").atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        long before = traffic.answered(v1Revision);
        assertThat(traffic.answered(v2Revision)).isGreaterThan(20);
        assertThat(traffic.answered(v1Revision)).isEqualTo(before);
      });
      assertThat(pods()).as("the same pods, never restarted").isEqualTo(podsAtStart);
      assertThat(iris.revisionDeployments()).containsExactly("iris-" + v1Revision);

      iris.newSource(v3);
      await("v3 rolled back in place").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
        assertThat(iris.phase()).isEqualTo(Phase.Degraded);
        assertThat(iris.status().getHistory()).first().satisfies(h -> {
          assertThat(h.getOutcome()).isEqualTo(Outcome.RolledBack);
          assertThat(h.getReason()).startsWith("GateFailed").contains("errorRate");
        });
      });
      assertThat(iris.stable().getRevision()).isEqualTo(v2Revision);
      long answeredBefore = traffic.answered(v2Revision);
      await("v2 serves on").atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(traffic.answered(v2Revision)).isGreaterThan(answeredBefore + 20));
      RealCluster.progress("v3 rolled back in place; answers: " + traffic.answers());
      assertThat(traffic.answers()).containsKey("500");
      assertThat(pods()).as("the same pods, never restarted").isEqualTo(podsAtStart);
      assertThat(iris.revisionDeployments()).containsExactly("iris-" + v1Revision);
    }
  }
}
