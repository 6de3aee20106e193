package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the model-server pods do on a real node: keep-alive clients lose nothing when pods go away (preStop pause,
 * Connection: close, drain), a normal start and stop record no failed probe, and no pod ever looks up a telemetry
 * host (the cluster's DNS logs every query and answers only cluster names).
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class ModelServerPodsE2eTest {
  private static final String NAMESPACE = "e2e-pods";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);

  @Test
  void keepAliveClientsLoseNothingWhenPodsGoAwayAndNothingCallsHome() throws Exception {
    String v1 = ns.store().putMlp("pods/1", new Mlp(4, 16, 1, 3, 41));
    ns.cluster().client().resource(Specs.s3(NAMESPACE, "pods", ns.store(), v1, 3)).create();
    var mdep = new Mdeps(ns.cluster(), NAMESPACE, "pods");
    await("three pods serve").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
      assertThat(mdep.phase()).isEqualTo(Phase.Stable);
      assertThat(mdep.stable().getReadyReplicas()).isEqualTo(3);
    });

    try (Traffic traffic = new Traffic(mdep.clusterIp(), "pods", Traffic.IRIS_BODY, 40, 32)) {
      await("traffic flows").atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(traffic.sent()).isGreaterThan(200));
      mdep.edit(m -> m.getSpec().setReplicas(1));
      await("two pods gone").atMost(Duration.ofMinutes(2)).untilAsserted(() ->
          assertThat(ns.cluster().client().pods().inNamespace(NAMESPACE).list().getItems()).hasSize(1));
      long sentAtScaleDown = traffic.sent();
      await("traffic goes on").atMost(Duration.ofMinutes(1))
          .untilAsserted(() -> assertThat(traffic.sent()).isGreaterThan(sentAtScaleDown + 200));
      RealCluster.progress("answers across a scale-down from 3 pods to 1: " + traffic.answers());
      assertThat(traffic.failures()).as("client-visible failures: %s", traffic.failureSamples()).isZero();
    }

    List<Event> podWarnings = ns.cluster().client().v1().events().inNamespace(NAMESPACE).list().getItems().stream()
        .filter(e -> "Pod".equals(e.getInvolvedObject().getKind()) && "Warning".equals(e.getType())).toList();
    // The startup probe's answer is held while the model loads and warms up (waitSeconds), so a normal start records
    // no failed probe, even with three pods starting at once on two busy cores. One thing is left to chance on a
    // pod that stopped: the kubelet probes readiness until it notices the container has exited (up to a second
    // later), and such a probe finds the port closed ("connection refused"), or, when it came in the instant the
    // process exited, its connection accepted by the kernel and reset with the socket. Nothing else may warn.
    var running = ns.cluster().client().pods().inNamespace(NAMESPACE).list().getItems().stream()
        .map(p -> p.getMetadata().getName()).collect(java.util.stream.Collectors.toSet());
    List<String> afterExit = podWarnings.stream()
        .filter(e -> !running.contains(e.getInvolvedObject().getName()))
        .map(e -> e.getMessage())
        .filter(ModelServerPodsE2eTest::probeAfterExit).toList();
    RealCluster.progress("readiness probes of stopped pods that came after the exit: " + afterExit.size());
    assertThat(podWarnings).as("Warning Events of pods that started and stopped normally")
        .filteredOn(e -> running.contains(e.getInvolvedObject().getName()) || !probeAfterExit(e.getMessage()))
        .extracting(e -> e.getReason() + ": " + e.getMessage()).isEmpty();

    // A control, so the check below cannot pass on an empty log: a lookup from inside a model-server pod.
    String pod = ns.cluster().client().pods().inNamespace(NAMESPACE).list().getItems().get(0).getMetadata().getName();
    ns.cluster().kubectl("exec", "-n", NAMESPACE, pod, "-c", "model-server", "--", "getent", "hosts",
        "pods." + NAMESPACE + ".svc.cluster.local");
    await("the lookup is logged").atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(Files.readString(ns.cluster().coreDnsQueryLog())).contains("pods." + NAMESPACE + ".svc.cluster.local"));
    String queries = Files.readString(ns.cluster().coreDnsQueryLog());
    assertThat(queries.toLowerCase()).doesNotContain("microsoft", "events.data", "djl.ai", "amazonaws");
  }

  /** A readiness probe that found the port of a process that had exited: closed, or reset as the socket went. */
  private static boolean probeAfterExit(String message) {
    return message.startsWith("Readiness probe failed:")
        && (message.endsWith("connect: connection refused") || message.endsWith("read: connection reset by peer"));
  }
}
