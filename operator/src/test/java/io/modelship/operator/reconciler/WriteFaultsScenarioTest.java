package io.modelship.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.mockwebserver.http.RecordedRequest;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.testing.ModelDeployments;
import io.modelship.operator.testing.OperatorHarness;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The apiserver refusing the operator's writes now and then, as a busy real one does: conflicts (409) from another
 * writer and 500s from an etcd hiccup. A rollout still converges to the same end, every failed write is retried,
 * none is retried in a hot loop, and once it has converged the operator writes nothing. The baseline is the same
 * rollout without faults, in the same test.
 */
class WriteFaultsScenarioTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private OperatorHarness k8s;

  @BeforeEach
  void start() throws Exception {
    k8s = new OperatorHarness().start();
  }

  @AfterEach
  void stop() {
    k8s.close();
  }

  /** Writes only the operator makes: its server-side applies and its ModelDeployment status patches. */
  private static boolean operatorWrite(RecordedRequest request) {
    String contentType = request.getHeader("Content-Type");
    String path = request.getPath();
    return "PATCH".equals(request.getMethod())
        && ((contentType != null && contentType.contains("apply-patch"))
            || (path.contains("/modeldeployments/") && path.split("\\?")[0].endsWith("/status")));
  }

  /** A blue/green rollout from v1 to v2, start to promotion; returns the writes that went through meanwhile. */
  private int rollOut(String name) {
    int before = k8s.dispatcher.writes().size();
    k8s.create(ModelDeployments.steps(ModelDeployments.s3(name, "s3://models/" + name + "/1/"), 100, null));
    String v1 = k8s.awaitOtherRevision(name, "");
    k8s.autoReady(v1);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.stable(name).getRevision()).isEqualTo(revision(v1)));
    k8s.edit(name, m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/" + name + "/2/"));
    String v2 = k8s.awaitOtherRevision(name, v1);
    k8s.autoReady(v2);
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = k8s.status(name);
      assertThat(status.getPhase()).isEqualTo(Phase.Stable);
      assertThat(k8s.stable(name).getRevision()).isEqualTo(revision(v2));
      assertThat(status.getHistory()).extracting(h -> h.getOutcome()).containsExactly(Outcome.Promoted);
      assertThat(k8s.deployments()).extracting(d -> d.getMetadata().getName()).filteredOn(n -> n.startsWith(name + "-"))
          .containsExactly(v2);
    });
    return k8s.dispatcher.writes().size() - before;
  }

  private static String revision(String deployment) {
    return deployment.substring(deployment.lastIndexOf('-') + 1);
  }

  @Test
  void aRolloutConvergesThroughConflictsAndServerErrorsWithoutAHotLoop() {
    int calm = rollOut("calm");

    // Every second write of the operator fails: a conflict, then an etcd timeout, and so on.
    AtomicInteger seen = new AtomicInteger();
    k8s.dispatcher.failWrites(request -> {
      if (!operatorWrite(request)) {
        return null;
      }
      int n = seen.incrementAndGet();
      return n % 2 == 0 ? (n % 4 == 0 ? 500 : 409) : null;
    });
    int stormy = rollOut("stormy");
    int failed = k8s.dispatcher.failedWrites().size();
    System.out.printf("WriteFaultsScenarioTest: the rollout took %d writes without faults; with every second operator"
        + " write failed, %d went through and %d failed (%d conflicts)%n", calm, stormy, failed,
        k8s.dispatcher.failedWrites().stream().filter(w -> w.startsWith("409")).count());
    assertThat(failed).as("writes failed on purpose").isGreaterThanOrEqualTo(4);
    assertThat(k8s.dispatcher.failedWrites()).anyMatch(w -> w.startsWith("409")).anyMatch(w -> w.startsWith("500"));
    // Each failed write is made again, and the work is not multiplied: the writes that went through are at most
    // twice the calm run's (a failed status write makes the next pass redo its decision, no more).
    assertThat(stormy).isLessThanOrEqualTo(2 * calm);

    // Converged, the faults stop mattering: reconciliations write nothing at all.
    k8s.dispatcher.failWrites(request -> null);
    k8s.awaitReconciliations(3);
    int before = k8s.dispatcher.writes().size();
    k8s.awaitReconciliations(5);
    assertThat(k8s.dispatcher.writes().subList(before, k8s.dispatcher.writes().size()))
        .as("writes during five reconciliations after converging").isEmpty();
  }
}
