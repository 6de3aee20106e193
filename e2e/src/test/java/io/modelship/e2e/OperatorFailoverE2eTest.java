package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator itself failing: two replicas under the chart's leader election, the leader killed in the middle of
 * a rollout (SIGKILL, as a node loss would), the standby taking the Lease over and finishing the rollout from what
 * status recorded, with no revision created twice and no client request lost.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class OperatorFailoverE2eTest {
  private static final String NAMESPACE = "e2e-failover";
  private static final String LEASE = "modelship-operator";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);

  @BeforeAll
  static void twoOperators() throws Exception {
    ns.cluster().installChart("--set", "replicas=2");
  }

  @AfterAll
  static void oneOperator() throws Exception {
    ns.cluster().installChart();
  }

  @Test
  void theStandbyTakesOverMidRolloutAndFinishesIt() throws Exception {
    String v1 = ns.store().putMlp("failover/1", new Mlp(4, 16, 1, 3, 21));
    String v2 = ns.store().putMlp("failover/2", new Mlp(4, 16, 1, 3, 22));
    ns.cluster().client().resource(Specs.errorRateGate(Specs.steps(Specs.s3(NAMESPACE, "failover", ns.store(), v1, 2),
        50, "20s", 100, null), "2s", 10, 0.05)).create();
    var mdep = new Mdeps(ns.cluster(), NAMESPACE, "failover");
    await("v1 stable").atMost(Duration.ofMinutes(3)).untilAsserted(() -> assertThat(mdep.phase()).isEqualTo(Phase.Stable));
    String leader = holder();
    String leaderPod = leader.substring(0, leader.lastIndexOf('_'));
    assertThat(operatorPods()).hasSize(2).contains(leaderPod);

    try (Traffic traffic = new Traffic(mdep.clusterIp(), "failover", Traffic.IRIS_BODY, 20, 16)) {
      mdep.newSource(v2);
      await("canary at step 0").atMost(Duration.ofMinutes(2)).untilAsserted(() ->
          assertThat(mdep.canary().getStepReachedAt()).isNotNull());
      List<String> revisions = mdep.revisionDeployments();

      Instant killed = Instant.now();
      ns.cluster().sigkill(leaderPod);

      // The Lease lasts 15 s: a leader killed without a word is replaced once it has run out.
      await("the standby holds the Lease").atMost(Duration.ofSeconds(60))
          .untilAsserted(() -> assertThat(holder()).isNotEqualTo(leader).isNotEmpty());
      // Either the standby or the killed pod's restarted container; never the dead process.
      RealCluster.progress("Lease taken over %d s after the leader was killed".formatted(
          Duration.between(killed, Instant.now()).toSeconds()));
      await("v2 promoted by the new leader").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
        assertThat(mdep.phase()).isEqualTo(Phase.Stable);
        assertThat(mdep.status().getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
      });
      assertThat(revisions).as("revisions while the leader died").hasSize(2);
      assertThat(mdep.reasons()).filteredOn("RolloutStarted"::equals).as("the rollout started once").hasSize(1);
      RealCluster.progress("answers across the failover: " + traffic.answers());
      assertThat(traffic.failures()).as("client-visible failures: %s", traffic.failureSamples()).isZero();
    }
  }

  private static String holder() {
    Lease lease = ns.cluster().client().resources(Lease.class).inNamespace(RealCluster.OPERATOR_NAMESPACE).withName(LEASE).get();
    if (lease == null || lease.getSpec().getHolderIdentity() == null) {
      throw new AssertionError("nobody holds the Lease yet");
    }
    return lease.getSpec().getHolderIdentity();
  }

  private static List<String> operatorPods() {
    return ns.cluster().client().pods().inNamespace(RealCluster.OPERATOR_NAMESPACE).list().getItems().stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .map(Pod::getMetadata).map(m -> m.getName()).toList();
  }
}
