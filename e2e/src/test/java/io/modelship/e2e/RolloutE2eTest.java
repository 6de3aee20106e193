package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The story a user lives, on a real cluster with real traffic through the client Service: v1 becomes stable,
 * v2 rolls out step by step and is promoted on passing gates, a broken v3 is rolled back by its gate while v2
 * keeps serving, and a v4 whose bytes in S3 are not the ones its digest names never loads.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class RolloutE2eTest {
  private static final String NAMESPACE = "e2e-rollout";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);

  @Test
  void v1BecomesStableV2IsPromotedStepByStepAndABrokenV3IsRolledBack() throws Exception {
    String v1 = ns.store().putMlp("iris/1", new Mlp(4, 16, 1, 3, 1));
    String v2 = ns.store().putMlp("iris/2", new Mlp(4, 16, 1, 3, 2));
    String v3 = ns.store().putFailing("iris/3");
    var mdep = Specs.errorRateGate(Specs.steps(Specs.s3(NAMESPACE, "iris", ns.store(), v1, 2),
        10, "10s", 50, "10s", 100, null), "2s", 10, 0.05);
    ns.cluster().client().resource(mdep).create();

    await("v1 stable").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
      assertThat(status().getPhase()).isEqualTo(Phase.Stable);
      assertThat(iris().stable().getReadyReplicas()).isEqualTo(2);
    });
    String v1Revision = iris().stable().getRevision();
    String table = ns.cluster().kubectl("get", "mdep", "-n", NAMESPACE);
    RealCluster.progress("kubectl get mdep:\n" + table);
    assertThat(table.lines().findFirst().orElseThrow().split("\\s+"))
        .containsExactly("NAME", "PHASE", "STABLE", "CANARY", "WEIGHT", "READY", "REPLICAS", "AGE");
    assertThat(table).contains("iris", "Stable", v1Revision, "True");

    String clusterIp = ns.cluster().client().services().inNamespace(NAMESPACE).withName("iris").get().getSpec().getClusterIP();
    try (Traffic traffic = new Traffic(clusterIp, "iris", Traffic.IRIS_BODY, 20, 16);
        Watched watched = new Watched()) {
      await("traffic answered by v1").atMost(Duration.ofMinutes(1))
          .untilAsserted(() -> assertThat(traffic.answered(v1Revision)).isGreaterThan(20));

      edit(m -> m.getSpec().getModel().getSource().getS3().setUri(v2));
      await("v2 promoted").atMost(Duration.ofMinutes(4)).untilAsserted(() -> {
        assertThat(status().getPhase()).isEqualTo(Phase.Stable);
        assertThat(status().getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
      });
      String v2Revision = iris().stable().getRevision();
      assertThat(v2Revision).isNotEqualTo(v1Revision);
      assertThat(watched.steps).as("steps the canary went through").contains(0, 1);
      assertThat(reasons()).contains("RolloutStarted", "StepAdvanced", "Promoting", "Promoted");
      long failuresBeforeV3 = traffic.failures();
      RealCluster.progress("v2 promoted; answers so far: " + traffic.answers());
      assertThat(failuresBeforeV3).as("client-visible failures while a healthy version rolled out: %s",
          traffic.failureSamples()).isZero();
      await("traffic answered by v2").atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(traffic.answered(v2Revision)).isGreaterThan(20));

      edit(m -> m.getSpec().getModel().getSource().getS3().setUri(v3));
      await("v3 rolled back").atMost(Duration.ofMinutes(4)).untilAsserted(() -> {
        assertThat(status().getPhase()).isEqualTo(Phase.Degraded);
        assertThat(status().getHistory()).first().satisfies(h -> {
          assertThat(h.getOutcome()).isEqualTo(Outcome.RolledBack);
          assertThat(h.getReason()).startsWith("GateFailed").contains("errorRate");
        });
      });
      assertThat(iris().stable().getRevision()).isEqualTo(v2Revision);
      // A first failing window that is already decisive (every v3 request fails) rolls back at once, with no
      // GateFailed Event before the RollingBack one; a thinner first window says GateFailed first. Either is right.
      assertThat(warnings()).contains("RollingBack");
      long answeredBefore = traffic.answered(v2Revision);
      await("v2 serves on").atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(traffic.answered(v2Revision)).isGreaterThan(answeredBefore + 20));
      RealCluster.progress("v3 rolled back; answers: " + traffic.answers());
      assertThat(traffic.answers()).containsKey("500");

      // v4: the spec pins the digest of the artifact meant to be there, and S3 holds other bytes (a swapped or
      // corrupted upload). The canary's fetch refuses them before anything loads; the rollout goes back at once.
      String v4 = ns.store().putMlp("iris/4", new Mlp(4, 16, 1, 3, 4));
      String meant = "ab".repeat(32);
      long failuresBeforeV4 = traffic.failures();
      edit(m -> {
        m.getSpec().getModel().getSource().getS3().setUri(v4);
        m.getSpec().getModel().setSha256(meant);
      });
      await("v4 refused by its digest").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
        assertThat(status().getPhase()).isEqualTo(Phase.Degraded);
        assertThat(status().getHistory()).first().satisfies(h -> {
          assertThat(h.getOutcome()).isEqualTo(Outcome.RolledBack);
          assertThat(h.getReason()).startsWith("FetchFailed").contains("digest mismatch", meant);
        });
      });
      assertThat(iris().stable().getRevision()).isEqualTo(v2Revision);
      long answeredBeforeV4 = traffic.answered(v2Revision);
      await("v2 serves on after v4").atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(traffic.answered(v2Revision)).isGreaterThan(answeredBeforeV4 + 20));
      assertThat(traffic.failures() - failuresBeforeV4).as("client-visible failures while v4 was refused: %s",
          traffic.failureSamples()).isZero();
      RealCluster.progress("v4 refused by its digest: " + status().getHistory().get(0).getReason());
    }
  }

  private static Mdeps iris() {
    return new Mdeps(ns.cluster(), NAMESPACE, "iris");
  }

  private static ModelDeploymentStatus status() {
    return iris().status();
  }

  private static void edit(java.util.function.Consumer<ModelDeployment> change) {
    iris().edit(change);
  }

  private static List<Event> events() {
    return ns.cluster().client().v1().events().inNamespace(NAMESPACE).list().getItems().stream()
        .filter(e -> "iris".equals(e.getInvolvedObject().getName())).toList();
  }

  private static List<String> reasons() {
    return events().stream().map(Event::getReason).toList();
  }

  private static List<String> warnings() {
    return events().stream().filter(e -> "Warning".equals(e.getType())).map(Event::getReason).toList();
  }

  /** Polls status in the background and remembers every canary step it saw, so a test can say which were reached. */
  private static final class Watched implements AutoCloseable {
    final Set<Integer> steps = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService poll = Executors.newSingleThreadScheduledExecutor();

    Watched() {
      poll.scheduleAtFixedRate(() -> {
        try {
          var canary = status().getCanary();
          if (canary != null && canary.getStep() != null && canary.getStepReachedAt() != null) {
            steps.add(canary.getStep());
          }
        } catch (RuntimeException | AssertionError e) {
          // not there yet
        }
      }, 0, 500, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
      poll.shutdownNow();
    }
  }
}
