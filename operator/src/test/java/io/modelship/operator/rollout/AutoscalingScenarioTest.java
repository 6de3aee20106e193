package io.modelship.operator.rollout;

import static io.modelship.operator.testing.OperatorHarness.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerStatusBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.AutoscalingSpec;
import io.modelship.operator.api.spec.ResourcesSpec;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.testing.ModelDeployments;
import io.modelship.operator.testing.OperatorHarness;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * spec.autoscaling on the mock apiserver: the HorizontalPodAutoscaler the operator keeps, and what it does with the
 * count an autoscaler writes to spec.replicas (here written by the test, as the autoscaler would through the scale
 * subresource; AutoscalingE2eTest has Kubernetes' own autoscaler write it on a real cluster).
 */
class AutoscalingScenarioTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private OperatorHarness k8s;

  @BeforeEach
  void start() throws Exception {
    k8s = new OperatorHarness().start();
  }

  @AfterEach
  void stop() {
    k8s.close();
  }

  @Test
  void oneAutoscalerScalesTheModelDeploymentItselfWithinItsBoundsAndGoesWhenTurnedOff() {
    var mdep = autoscaled("elastic", 2, 6);
    mdep.getSpec().getAutoscaling().setTarget(60);
    mdep.getSpec().setReplicas(1);
    k8s.create(mdep);
    String revision = k8s.awaitOtherRevision("elastic", "");
    k8s.autoReady(revision);

    await().atMost(TIMEOUT).untilAsserted(() -> {
      var hpa = autoscaler("elastic");
      assertThat(hpa).as("the HorizontalPodAutoscaler").isNotNull();
      // The ModelDeployment itself, through its scale subresource: every revision's pods, one object for its life.
      assertThat(hpa.getSpec().getScaleTargetRef().getApiVersion()).isEqualTo("modelship.io/v1alpha1");
      assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo("ModelDeployment");
      assertThat(hpa.getSpec().getScaleTargetRef().getName()).isEqualTo("elastic");
      assertThat(hpa.getSpec().getMinReplicas()).isEqualTo(2);
      assertThat(hpa.getSpec().getMaxReplicas()).isEqualTo(6);
      assertThat(hpa.getSpec().getMetrics()).singleElement().satisfies(m -> {
        assertThat(m.getType()).isEqualTo("Resource");
        assertThat(m.getResource().getName()).isEqualTo("cpu");
        assertThat(m.getResource().getTarget().getType()).isEqualTo("Utilization");
        assertThat(m.getResource().getTarget().getAverageUtilization()).isEqualTo(60);
      });
      assertThat(hpa.getMetadata().getOwnerReferences()).singleElement()
          .satisfies(owner -> assertThat(owner.getName()).isEqualTo("elastic"));
      // Below the autoscaler's floor before it has acted: the operator keeps the bound, as the autoscaler would.
      assertThat(k8s.replicas(revision)).isEqualTo(2);
      // What the scale subresource shows the autoscaler: the pods, and how to find them for the metric.
      assertThat(k8s.status("elastic").getReplicas()).isEqualTo(2);
      assertThat(k8s.status("elastic").getSelector()).isEqualTo("modelship.io/deployment=elastic");
      assertThat(k8s.phase("elastic")).isEqualTo(Phase.Stable);
    });

    // The autoscaler's controller cannot read its metric (no metrics-server): the ModelDeployment says so, and what
    // to install, with a Warning Event; once it can, the condition turns True.
    k8s.client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(NAMESPACE).withName("elastic").editStatus(h -> {
      h.setStatus(new HorizontalPodAutoscalerStatusBuilder().withDesiredReplicas(2).withCurrentReplicas(2)
          .addNewCondition().withType("AbleToScale").withStatus("True").withReason("SucceededGetScale")
          .withMessage("the HPA controller was able to get the target's current scale").endCondition()
          .addNewCondition().withType("ScalingActive").withStatus("False").withReason("FailedGetResourceMetric")
          .withMessage("the HPA was unable to compute the replica count: failed to get cpu utilization").endCondition()
          .build());
      return h;
    });
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var condition = OperatorHarness.condition(k8s.status("elastic"), "Autoscaling");
      assertThat(condition.getStatus()).isEqualTo("False");
      assertThat(condition.getReason()).isEqualTo("FailedGetResourceMetric");
      assertThat(condition.getMessage()).contains("failed to get cpu utilization", "metrics-server");
      assertThat(k8s.warnings("elastic")).contains("AutoscalingInactive");
    });
    k8s.client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(NAMESPACE).withName("elastic").editStatus(h -> {
      h.getStatus().getConditions().get(1).setStatus("True");
      h.getStatus().getConditions().get(1).setReason("ValidMetricFound");
      return h;
    });
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var condition = OperatorHarness.condition(k8s.status("elastic"), "Autoscaling");
      assertThat(condition.getStatus()).isEqualTo("True");
      assertThat(condition.getMessage()).isEqualTo("HorizontalPodAutoscaler elastic scales between 2 and 6 pods on cpu; it asks for 2");
    });

    // Above the ceiling: held at it.
    k8s.edit("elastic", m -> m.getSpec().setReplicas(50));
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.replicas(revision)).isEqualTo(6));

    // On the model server's in-flight requests: a per-pod custom metric, under the name the server exports.
    k8s.edit("elastic", m -> {
      m.getSpec().getAutoscaling().setMetric(AutoscalingSpec.IN_FLIGHT);
      m.getSpec().getAutoscaling().setTarget(8);
    });
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(autoscaler("elastic").getSpec().getMetrics())
        .singleElement().satisfies(m -> {
          assertThat(m.getType()).isEqualTo("Pods");
          assertThat(m.getPods().getMetric().getName()).isEqualTo("modelship_inference_in_flight");
          assertThat(m.getPods().getTarget().getType()).isEqualTo("AverageValue");
          assertThat(m.getPods().getTarget().getAverageValue()).isEqualTo(new Quantity("8"));
        }));

    // Back to fixed replicas: no autoscaler, and the spec's count as written.
    k8s.edit("elastic", m -> {
      m.getSpec().setAutoscaling(null);
      m.getSpec().setReplicas(3);
    });
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(autoscaler("elastic")).as("the HorizontalPodAutoscaler").isNull();
      assertThat(k8s.replicas(revision)).isEqualTo(3);
      assertThat(k8s.status("elastic").getConditions()).extracting(c -> c.getType()).doesNotContain("Autoscaling");
    });
    assertThat(k8s.deployments()).as("scaling shapes no pod: no new revision")
        .extracting(d -> d.getMetadata().getName()).containsExactly(revision);
  }

  @Test
  void theAutoscalersCountIsSplitByTheStepsWeightWhileARolloutRuns() {
    var mdep = ModelDeployments.steps(autoscaled("surging", 2, 8), 25, "30s", 50, "30s", 100, null);
    mdep.getSpec().setReplicas(4);
    k8s.create(mdep);
    String stable = k8s.awaitOtherRevision("surging", "");
    k8s.autoReady(stable);
    await().atMost(TIMEOUT).until(() -> k8s.phase("surging") == Phase.Stable && autoscaler("surging") != null);
    String autoscalerUid = autoscaler("surging").getMetadata().getUid();
    k8s.edit("surging", m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/surging/2/"));
    String canary = k8s.awaitOtherRevision("surging", stable);
    k8s.autoReady(canary);
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.replicas(canary)).isEqualTo(1);
      assertThat(k8s.replicas(stable)).isEqualTo(3);
      assertThat(k8s.canary("surging").getWeight()).isEqualTo(25);
    });

    // Load doubles mid-step: the autoscaler asks for 8 pods, and both revisions grow, a quarter to the canary.
    k8s.edit("surging", m -> m.getSpec().setReplicas(8));
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.replicas(canary)).isEqualTo(2);
      assertThat(k8s.replicas(stable)).isEqualTo(6);
      assertThat(k8s.canary("surging").getStep()).isZero();
      assertThat(k8s.status("surging").getReplicas()).isEqualTo(8);
    });

    k8s.passStep("surging");
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.canary("surging").getStep()).isEqualTo(1);
      assertThat(k8s.replicas(canary)).isEqualTo(4);
      assertThat(k8s.replicas(stable)).isEqualTo(4);
      assertThat(k8s.canary("surging").getWeight()).isEqualTo(50);
    });

    // Load falls away: down to the autoscaler's floor, still half and half.
    k8s.edit("surging", m -> m.getSpec().setReplicas(2));
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.replicas(canary)).isEqualTo(1);
      assertThat(k8s.replicas(stable)).isEqualTo(1);
      assertThat(k8s.canary("surging").getStep()).isEqualTo(1);
    });

    k8s.passStep("surging");
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.phase("surging")).isEqualTo(Phase.Stable);
      assertThat(k8s.status("surging").getHistory()).first()
          .satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
      assertThat(k8s.deployment(stable)).isEmpty();
      assertThat(k8s.replicas(canary)).isEqualTo(2);
      assertThat(k8s.status("surging").getReplicas()).isEqualTo(2);
    });
    assertThat(autoscaler("surging").getMetadata().getUid()).as("the same autoscaler before and after the rollout")
        .isEqualTo(autoscalerUid);
  }

  private static ModelDeployment autoscaled(String name, int min, int max) {
    var mdep = ModelDeployments.s3(name, "s3://models/" + name + "/1/");
    var resources = new ResourcesSpec();
    resources.setCpu(new Quantity("500m"));
    mdep.getSpec().setResources(resources);
    var autoscaling = new AutoscalingSpec();
    autoscaling.setMinReplicas(min);
    autoscaling.setMaxReplicas(max);
    mdep.getSpec().setAutoscaling(autoscaling);
    return mdep;
  }

  private HorizontalPodAutoscaler autoscaler(String name) {
    return k8s.client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(NAMESPACE).withName(name).get();
  }

}
