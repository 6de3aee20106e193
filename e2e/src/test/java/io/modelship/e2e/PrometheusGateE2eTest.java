package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.modelship.operator.api.spec.AnalysisSpec;
import io.modelship.operator.api.spec.GateSpec;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The prometheus gate against a real Prometheus (Debian's package) that scrapes the model-server pods through
 * Kubernetes service discovery, as a cluster's monitoring does: the operator, in its pod, asks it for the canary's
 * server-error ratio with PromQL. A healthy v2 passes on the value Prometheus computed (0) and is promoted; a v3
 * that fails every request is judged on Prometheus's 1 and rolled back, while v1's successor serves on.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class PrometheusGateE2eTest {
  private static final String NAMESPACE = "e2e-prometheus";
  /** The canary's share of requests that failed on the server, over the last 10 s, as Prometheus scraped them. */
  private static final String ERROR_RATIO = "(sum(rate(modelship_inference_requests_total{namespace=\"$namespace\","
      + "revision=\"$canary\",outcome=\"server_error\"}[10s])) or vector(0))"
      + " / sum(rate(modelship_inference_requests_total{namespace=\"$namespace\",revision=\"$canary\"}[10s]))";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);
  private static PrometheusServer prometheus;

  @BeforeAll
  static void prometheusOnTheNode() throws Exception {
    Assumptions.assumeTrue(PrometheusServer.installed(), () -> {
      String why = PrometheusServer.BINARY + " is missing (cluster/deps.sh installs Debian's prometheus package)";
      RealCluster.progress("PrometheusGateE2eTest skipped: " + why);
      return why;
    });
    prometheus = PrometheusServer.start(ns.cluster());
  }

  @AfterAll
  static void cleanUp() throws Exception {
    if (prometheus != null) {
      prometheus.close();
    }
  }

  @Test
  void aHealthyVersionPassesOnPrometheusValuesAndAFailingOneIsRolledBack() throws Exception {
    String v1 = ns.store().putMlp("prom/1", new Mlp(4, 16, 1, 3, 41));
    String v2 = ns.store().putMlp("prom/2", new Mlp(4, 16, 1, 3, 42));
    String v3 = ns.store().putFailing("prom/3");
    var mdep = Specs.steps(Specs.s3(NAMESPACE, "iris", ns.store(), v1, 2), 50, "10s", 100, null);
    var analysis = new AnalysisSpec();
    analysis.setInterval("2s");
    var gate = new GateSpec();
    var query = new GateSpec.PrometheusGate();
    query.setAddress(prometheus.address);
    query.setQuery(ERROR_RATIO);
    query.setMax(0.05);
    gate.setPrometheus(query);
    analysis.setGates(List.of(gate));
    Specs.rollout(mdep).setAnalysis(analysis);
    ns.cluster().client().resource(mdep).create();
    var iris = new Mdeps(ns.cluster(), NAMESPACE, "iris");
    await("v1 stable").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
      assertThat(iris.phase()).isEqualTo(Phase.Stable);
      assertThat(iris.stable().getReadyReplicas()).isEqualTo(2);
    });
    String v1Revision = iris.stable().getRevision();
    await("Prometheus scrapes v1's pods").atMost(Duration.ofMinutes(1))
        .ignoreExceptionsInstanceOf(java.io.IOException.class).untilAsserted(() ->
            assertThat(prometheus.query("up{namespace=\"" + NAMESPACE + "\",revision=\"" + v1Revision + "\"} == 1"))
                .as("Prometheus's log: %s", prometheus.log()).hasSize(2));

    try (Traffic traffic = new Traffic(iris.clusterIp(), "iris", Traffic.IRIS_BODY, 20, 8)) {
      await("traffic answered").atMost(Duration.ofMinutes(1))
          .untilAsserted(() -> assertThat(traffic.answered(v1Revision)).isGreaterThan(20));

      iris.newSource(v2);
      List<GateResultStatus> seen = new CopyOnWriteArrayList<>();
      await("v2 promoted on Prometheus's values").atMost(Duration.ofMinutes(4)).untilAsserted(() -> {
        var status = iris.status();
        if (status.getCanary() != null) {
          seen.addAll(status.getCanary().getAnalysis());
        }
        assertThat(status.getPhase()).isEqualTo(Phase.Stable);
        assertThat(status.getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
      });
      assertThat(seen).as("the gate passed on a value Prometheus computed")
          .anySatisfy(r -> {
            assertThat(r.getGate()).isEqualTo("prometheus");
            assertThat(r.getVerdict()).isEqualTo(Verdict.Pass);
            assertThat(r.getValue()).isEqualTo(0.0);
          });
      String v2Revision = iris.stable().getRevision();
      RealCluster.progress("v2 promoted by the prometheus gate; answers: " + traffic.answers());

      iris.newSource(v3);
      await("v3 rolled back on Prometheus's error ratio").atMost(Duration.ofMinutes(4)).untilAsserted(() ->
          assertThat(iris.status().getHistory()).first().satisfies(h -> {
            assertThat(h.getOutcome()).isEqualTo(Outcome.RolledBack);
            assertThat(h.getReason()).startsWith("GateFailed").contains("prometheus");
          }));
      assertThat(iris.stable().getRevision()).isEqualTo(v2Revision);
      long before = traffic.answered(v2Revision);
      await("v2 serves on").atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(traffic.answered(v2Revision)).isGreaterThan(before + 20));
      RealCluster.progress("v3 rolled back by the prometheus gate; answers: " + traffic.answers());
    }
  }
}
