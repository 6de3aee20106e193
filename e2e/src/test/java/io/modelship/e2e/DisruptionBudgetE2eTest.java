package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.policy.v1.EvictionBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.rollout.PodSignals;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node drain as Kubernetes does it, through the Eviction API, against the PodDisruptionBudget the operator gives
 * every ModelDeployment: of two serving pods one may go, the second is refused (429) until the first one's
 * replacement is ready, and clients calling the Service all along get every answer.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class DisruptionBudgetE2eTest {
  private static final String NAMESPACE = "e2e-drain";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);

  private static List<Pod> servingPods() {
    return ns.cluster().client().pods().inNamespace(NAMESPACE).withLabel("modelship.io/deployment", "iris").list()
        .getItems().stream().filter(PodSignals::ready).toList();
  }

  /**
   * One Eviction request, as kubectl drain sends it: true when the pod is evicted, false when the API server
   * refuses it (429). The test's usual client would retry a 429 until the budget allows it; this one asks once.
   */
  private static boolean evict(Pod pod) {
    var once = new ConfigBuilder(ns.cluster().client().getConfiguration()).withRequestRetryBackoffLimit(0).build();
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(once).build()) {
      return client.pods().inNamespace(NAMESPACE).withName(pod.getMetadata().getName())
          .evict(new EvictionBuilder().withNewMetadata().withName(pod.getMetadata().getName())
              .withNamespace(NAMESPACE).endMetadata().build());
    }
  }

  private static int disruptionsAllowed() {
    var budget = ns.cluster().client().policy().v1().podDisruptionBudget().inNamespace(NAMESPACE).withName("iris").get();
    return budget == null || budget.getStatus() == null || budget.getStatus().getDisruptionsAllowed() == null ? 0
        : budget.getStatus().getDisruptionsAllowed();
  }

  @Test
  void aDrainEvictsOnePodAtATimeAndClientsSeeNoFailure() throws Exception {
    String v1 = ns.store().putMlp("drain/1", new Mlp(4, 16, 1, 3, 51));
    ns.cluster().client().resource(Specs.s3(NAMESPACE, "iris", ns.store(), v1, 2)).create();
    var iris = new Mdeps(ns.cluster(), NAMESPACE, "iris");
    await("v1 stable").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
      assertThat(iris.phase()).isEqualTo(Phase.Stable);
      assertThat(iris.stable().getReadyReplicas()).isEqualTo(2);
    });
    // The disruption controller has counted the healthy pods: one of two may go.
    await("the budget allows one disruption").atMost(Duration.ofMinutes(1))
        .untilAsserted(() -> assertThat(disruptionsAllowed()).isEqualTo(1));
    String revision = iris.stable().getRevision();

    try (Traffic traffic = new Traffic(iris.clusterIp(), "iris", Traffic.IRIS_BODY, 20, 8)) {
      await("traffic answered").atMost(Duration.ofMinutes(1))
          .untilAsserted(() -> assertThat(traffic.answered(revision)).isGreaterThan(20));
      List<Pod> pods = servingPods();
      assertThat(pods).hasSize(2);

      assertThat(evict(pods.get(0))).as("the first eviction").isTrue();
      assertThat(evict(pods.get(1))).as("a second eviction while the first pod's replacement is not ready").isFalse();
      await("the evicted pod replaced and ready").atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
        assertThat(servingPods()).hasSize(2).noneMatch(p -> p.getMetadata().getName()
            .equals(pods.get(0).getMetadata().getName()));
        assertThat(disruptionsAllowed()).isEqualTo(1);
      });
      assertThat(evict(pods.get(1))).as("the second pod, once the first is replaced").isTrue();
      await("both pods replaced").atMost(Duration.ofMinutes(2)).untilAsserted(() ->
          assertThat(servingPods()).hasSize(2).noneMatch(p -> pods.stream()
              .anyMatch(old -> old.getMetadata().getName().equals(p.getMetadata().getName()))));
      long before = traffic.answered(revision);
      await("the new pods answer").atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(traffic.answered(revision)).isGreaterThan(before + 20));
      RealCluster.progress("DisruptionBudgetE2eTest: two pods drained one at a time; answers: " + traffic.answers());
      assertThat(traffic.failures()).as("client-visible failures during the drain: %s", traffic.failureSamples())
          .isZero();
    }
    assertThat(iris.phase()).isEqualTo(Phase.Stable);
  }
}
