package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.modelship.operator.api.spec.GpuSpec;
import io.modelship.operator.api.spec.ResourcesSpec;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * GPUs with real scheduling: the node's nvidia.com/gpu capacity is faked (cluster/gpu.sh), so the scheduler counts
 * GPUs for real while the pods run on the CPU. A revision that waits for a GPU node waits, not fails; swap mode
 * rolls out inside a fixed GPU budget.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class GpuE2eTest {
  private static final String NAMESPACE = "e2e-gpu";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);

  @BeforeAll
  static void namespace() throws Exception {
    ns.cluster().gpus(0);
  }

  @AfterAll
  static void cleanUp() throws Exception {
    ns.cluster().gpus(0);
  }

  private static ResourcesSpec oneGpu() {
    var gpu = new GpuSpec();
    gpu.setCount(1);
    var resources = new ResourcesSpec();
    resources.setGpu(gpu);
    return resources;
  }

  @Test
  void aRevisionWaitsForGpuCapacityThenServesAndSwapModeRollsOutWithinTheBudget() throws Exception {
    String v1 = ns.store().putMlp("gpu/1", new Mlp(4, 16, 1, 3, 11));
    String v2 = ns.store().putMlp("gpu/2", new Mlp(4, 16, 1, 3, 12));
    var mdep = Specs.errorRateGate(Specs.steps(Specs.s3(NAMESPACE, "gpu", ns.store(), v1, 2), 50, "5s", 100, null),
        "2s", 10, 0.05);
    mdep.getSpec().setResources(oneGpu());
    Specs.rollout(mdep).setSurge(0);
    ns.cluster().client().resource(mdep).create();
    var gpu = new Mdeps(ns.cluster(), NAMESPACE, "gpu");

    // No GPU on the node yet: the pods are unschedulable, which is waiting, not failing.
    await("waiting for capacity").atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
      assertThat(gpu.phase()).isEqualTo(Phase.Pending);
      assertThat(gpu.condition("Ready", "reason")).isEqualTo("WaitingForCapacity");
      assertThat(gpu.condition("Ready", "message")).contains("nvidia.com/gpu");
    });

    // Exactly the budget the spec asks for: two GPUs.
    ns.cluster().gpus(2);
    await("stable once GPUs appear").atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
      assertThat(gpu.phase()).isEqualTo(Phase.Stable);
      assertThat(gpu.stable().getReadyReplicas()).isEqualTo(2);
    });
    long unschedulableBefore = unschedulableEvents();

    // Swap mode: the canary's GPU comes from a stable pod that has given its GPU back (a terminating pod still
    // holds it); the total never exceeds two, so the scheduler never has a pod it cannot place.
    try (Traffic traffic = new Traffic(gpu.clusterIp(), "gpu", Traffic.IRIS_BODY, 20, 16)) {
      gpu.newSource(v2);
      await("v2 promoted within two GPUs").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
        assertThat(gpu.phase()).isEqualTo(Phase.Stable);
        assertThat(gpu.status().getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
      });
      RealCluster.progress("answers during the swap: " + traffic.answers());
    }
    assertThat(unschedulableEvents()).as("pods the scheduler could not place during the swap")
        .isEqualTo(unschedulableBefore);
  }

  private static long unschedulableEvents() {
    return ns.cluster().client().v1().events().inNamespace(NAMESPACE).list().getItems().stream()
        .filter(e -> "FailedScheduling".equals(e.getReason()))
        .mapToLong(e -> e.getCount() == null ? 1 : e.getCount()).sum();
  }
}
