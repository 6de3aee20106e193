package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.modelship.operator.api.spec.AutoscalingSpec;
import io.modelship.operator.api.spec.ResourcesSpec;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * spec.autoscaling against Kubernetes' own HorizontalPodAutoscaler controller (kube-controller-manager): it scales
 * the ModelDeployment through its scale subresource, and the operator splits the count between the revisions,
 * also in the middle of a rollout, while clients see no failure.
 *
 * <p>This cluster has no metrics API (no metrics-server, no custom metrics adapter), so the autoscaler cannot
 * read CPU or in-flight requests here. What it does without them is what moves the pods: it keeps the count within
 * minReplicas and maxReplicas. A metric-driven decision is the same write to the same subresource.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class AutoscalingE2eTest {
  private static final String NAMESPACE = "e2e-autoscaling";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);

  @Test
  void kubernetesAutoscalerScalesTheModelDeploymentAndARolloutKeepsItsSplit() throws Exception {
    String v1 = ns.store().putMlp("autoscaling/1", new Mlp(4, 16, 1, 3, 61));
    String v2 = ns.store().putMlp("autoscaling/2", new Mlp(4, 16, 1, 3, 62));
    var mdep = Specs.steps(Specs.s3(NAMESPACE, "iris", ns.store(), v1, 1), 50, "10m", 100, null);
    var resources = new ResourcesSpec();
    resources.setCpu(new Quantity("50m"));
    mdep.getSpec().setResources(resources);
    var autoscaling = new AutoscalingSpec();
    autoscaling.setMinReplicas(2);
    autoscaling.setMaxReplicas(4);
    mdep.getSpec().setAutoscaling(autoscaling);
    long created = System.nanoTime();
    ns.cluster().client().resource(mdep).create();
    var iris = new Mdeps(ns.cluster(), NAMESPACE, "iris");

    // Applied with one replica: Kubernetes' autoscaler raises it to its floor through the scale subresource.
    await("the autoscaler scales v1 to its floor of 2").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
      assertThat(iris.get().getSpec().getReplicas()).isEqualTo(2);
      assertThat(iris.phase()).isEqualTo(Phase.Stable);
      assertThat(iris.stable().getReadyReplicas()).isEqualTo(2);
      assertThat(iris.status().getReplicas()).isEqualTo(2);
    });
    long floorAfter = seconds(created);
    assertThat(iris.get().getMetadata().getManagedFields()).as("who wrote spec.replicas")
        .extracting(ManagedFieldsEntry::getSubresource).contains("scale");
    var hpa = autoscaler();
    assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("ModelDeployment");
    // Within its bounds it needs its metric, and this cluster serves none: the ModelDeployment says so, and what
    // to install, from the autoscaler's own verdict.
    await("the autoscaler's verdict on the ModelDeployment").atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
      assertThat(iris.condition("Autoscaling", "status")).isEqualTo("False");
      assertThat(iris.condition("Autoscaling", "reason")).isEqualTo("FailedGetResourceMetric");
      assertThat(iris.condition("Autoscaling", "message")).contains("metrics-server");
      assertThat(iris.reasons()).contains("AutoscalingInactive");
      // Its own status is written after the scale: on a busy node, a moment later.
      assertThat(autoscaler().getStatus().getDesiredReplicas()).isEqualTo(2);
    });
    String verdict = iris.condition("Autoscaling", "message");

    try (Traffic traffic = new Traffic(iris.clusterIp(), "iris", Traffic.IRIS_BODY, 20, 8)) {
      String stable = iris.stable().getRevision();
      await("traffic answered").atMost(Duration.ofMinutes(1))
          .untilAsserted(() -> assertThat(traffic.answered(stable)).isGreaterThan(20));
      iris.newSource(v2);
      await("v2 at 50 %: one pod of two").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
        assertThat(iris.canary()).isNotNull();
        assertThat(iris.canary().getWeight()).isEqualTo(50);
        assertThat(iris.canary().getReadyReplicas()).isEqualTo(1);
        assertThat(iris.stable().getReadyReplicas()).isEqualTo(1);
      });
      String canary = iris.canary().getRevision();

      // Mid-step, the autoscaler asks for 4 pods (its floor raised here; a metric would do the same write): each
      // revision grows to 2, and the step and its weight stay.
      long raised = System.nanoTime();
      iris.edit(m -> m.getSpec().getAutoscaling().setMinReplicas(4));
      await("4 pods, 2 and 2, still at 50 %").atMost(Duration.ofMinutes(4)).untilAsserted(() -> {
        assertThat(iris.get().getSpec().getReplicas()).isEqualTo(4);
        assertThat(iris.canary().getReadyReplicas()).isEqualTo(2);
        assertThat(iris.stable().getReadyReplicas()).isEqualTo(2);
        assertThat(iris.canary().getStep()).isZero();
        assertThat(iris.canary().getWeight()).isEqualTo(50);
      });
      long splitAfter = seconds(raised);
      long before = traffic.answered(canary);
      await("the canary answers").atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(traffic.answered(canary)).isGreaterThan(before + 10));

      iris.edit(m -> {
        Map<String, String> annotations = m.getMetadata().getAnnotations() == null
            ? new HashMap<>() : new HashMap<>(m.getMetadata().getAnnotations());
        annotations.put("modelship.io/promote", "true");
        m.getMetadata().setAnnotations(annotations);
      });
      await("v2 promoted with all 4 pods").atMost(Duration.ofMinutes(4)).untilAsserted(() -> {
        assertThat(iris.phase()).isEqualTo(Phase.Stable);
        assertThat(iris.stable().getRevision()).isEqualTo(canary);
        assertThat(iris.stable().getReadyReplicas()).isEqualTo(4);
        assertThat(iris.revisionDeployments()).hasSize(1);
        assertThat(iris.status().getReplicas()).isEqualTo(4);
      });
      assertThat(autoscaler().getMetadata().getUid()).as("one autoscaler through the rollout")
          .isEqualTo(hpa.getMetadata().getUid());
      RealCluster.progress(("AutoscalingE2eTest: the HorizontalPodAutoscaler scaled v1 from 1 to 2 pods (both ready %d s"
          + " after the apply), then mid-rollout to 4 (2 + 2 ready %d s after its floor was raised); answers: %s; Autoscaling condition: %s")
          .formatted(floorAfter, splitAfter, traffic.answers(), verdict));
      assertThat(traffic.failures()).as("client-visible failures: %s", traffic.failureSamples()).isZero();
    }
  }

  private static long seconds(long since) {
    return Duration.ofNanos(System.nanoTime() - since).toSeconds();
  }

  private static HorizontalPodAutoscaler autoscaler() {
    return ns.cluster().client().autoscaling().v2().horizontalPodAutoscalers().inNamespace(NAMESPACE)
        .withName("iris").get();
  }
}
