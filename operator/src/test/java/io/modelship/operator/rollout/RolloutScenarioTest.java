package io.modelship.operator.rollout;

import static io.modelship.operator.testing.OperatorHarness.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.GpuSpec;
import io.modelship.operator.api.spec.ResourcesSpec;
import io.modelship.operator.api.spec.TrafficSpec;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import io.modelship.operator.api.status.HistoryEntry;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.testing.ModelDeployments;
import io.modelship.operator.testing.OperatorHarness;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Whole rollouts against the mock apiserver: the test plays the kubelet (pod and Deployment status), the clock,
 * and the gate verdicts, and checks what the operator does with them.
 */
class RolloutScenarioTest {
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

  /** A ModelDeployment of 4 replicas, stable and ready, then a new source: returns the stable Deployment's name. */
  private String stableThenNewSource(String name, Consumer<ModelDeployment> customize) {
    var mdep = ModelDeployments.steps(ModelDeployments.s3(name, "s3://models/" + name + "/1/"), 25, "30s", 50, "30s", 100, null);
    mdep.getSpec().setReplicas(4);
    customize.accept(mdep);
    k8s.create(mdep);
    String stable = k8s.awaitOtherRevision(name, "");
    k8s.autoReady(stable);
    await().atMost(TIMEOUT).until(() -> phase(name) == Phase.Stable);
    k8s.edit(name, m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/" + name + "/2/"));
    return stable;
  }

  @Test
  void aHealthyCanaryIsPromotedThroughEveryStep() {
    String stable = stableThenNewSource("healthy", m -> {});
    String canary = k8s.awaitOtherRevision("healthy", stable);
    // Step 0 asks for 25% of 4 pods: one canary pod; stable keeps all 4 until the canary pod is ready.
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(replicas(canary)).isEqualTo(1);
      assertThat(replicas(stable)).isEqualTo(4);
      assertThat(phase("healthy")).isEqualTo(Phase.Progressing);
    });
    k8s.autoReady(canary);
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(replicas(stable)).isEqualTo(3);
      assertThat(k8s.canary("healthy").getWeight()).isEqualTo(25);
      assertThat(k8s.canary("healthy").getAnalysis()).isNotEmpty();
    });
    assertThat(k8s.canary("healthy").getStep()).isZero();

    k8s.passStep("healthy");
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.canary("healthy").getStep()).isEqualTo(1);
      assertThat(replicas(canary)).isEqualTo(2);
      assertThat(replicas(stable)).isEqualTo(2);
      assertThat(k8s.canary("healthy").getWeight()).isEqualTo(50);
    });

    k8s.passStep("healthy");
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = status("healthy");
      assertThat(status.getPhase()).isEqualTo(Phase.Stable);
      assertThat(k8s.stable("healthy").getRevision()).isEqualTo(revision(canary));
      assertThat(status.getCanary()).isNull();
      assertThat(status.getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
      assertThat(k8s.deployment(stable)).isEmpty();
      assertThat(replicas(canary)).isEqualTo(4);
    });
    assertThat(reasons("healthy")).contains("RolloutStarted", "StepAdvanced", "Promoting", "Promoted");
    assertThat(k8s.metrics.get("modelship_rollout_duration").tags("name", "healthy", "outcome", "Promoted").timer().count()).isEqualTo(1);
    assertThat(k8s.metrics.get("modelship_rollout_step_duration").tags("name", "healthy").timer().count()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void serviceTrafficSpelledOutIsServedLikeTheDefault() {
    // traffic: {service: {}} as a user writes it: an empty object the operator must read and write back.
    var raw = io.fabric8.kubernetes.client.utils.Serialization.unmarshal("""
        {"apiVersion": "modelship.io/v1alpha1", "kind": "ModelDeployment",
         "metadata": {"name": "spelled", "namespace": "ml"},
         "spec": {"model": {"name": "spelled", "source": {"s3": {"uri": "s3://models/spelled/1/"}}}, "replicas": 2,
                  "rollout": {"traffic": {"service": {}}}}}
        """, io.fabric8.kubernetes.api.model.GenericKubernetesResource.class);
    k8s.client.resource(raw).create();
    String stable = k8s.awaitOtherRevision("spelled", "");
    k8s.autoReady(stable);
    await().atMost(TIMEOUT).until(() -> phase("spelled") == Phase.Stable);
    assertThat(k8s.get("spelled").getSpec().getRollout().getTraffic().getService()).isNotNull();
  }

  @Test
  void aShadowStepRunsOneCanaryPodThatNoClientReachesThenTheStepsGoOn() {
    String stable = stableThenNewSource("shadowed", m -> {
      var shadowStep = new io.modelship.operator.api.spec.RolloutStep(0, "30s");
      shadowStep.setShadow(true);
      m.getSpec().getRollout().setSteps(List.of(shadowStep, new io.modelship.operator.api.spec.RolloutStep(50, "30s"),
          new io.modelship.operator.api.spec.RolloutStep(100, null)));
    });
    String canary = k8s.awaitOtherRevision("shadowed", stable);
    k8s.autoReady(canary);
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(replicas(canary)).isEqualTo(1);
      assertThat(k8s.canary("shadowed").getStepReachedAt()).isNotNull();
      assertThat(k8s.canary("shadowed").getWeight()).isZero();
      assertThat(k8s.canary("shadowed").getAnalysis()).isNotEmpty();
    });
    assertThat(replicas(stable)).as("the stable keeps every pod: it serves every client").isEqualTo(4);
    assertThat(k8s.client.services().inNamespace(NAMESPACE).withName("shadowed").get().getSpec().getSelector())
        .as("clients reach the stable pods alone").containsEntry("modelship.io/revision", revision(stable));
    assertThat(k8s.client.secrets().inNamespace(NAMESPACE).withName("shadowed-modelship-admin").get())
        .as("the token the operator presents to the stable pods").isNotNull();

    k8s.passStep("shadowed");
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.canary("shadowed").getStep()).isEqualTo(1);
      assertThat(replicas(canary)).isEqualTo(2);
      assertThat(k8s.client.services().inNamespace(NAMESPACE).withName("shadowed").get().getSpec().getSelector())
          .doesNotContainKey("modelship.io/revision");
    });
  }

  @Test
  void failingGatesRollBackAndTheFailedRevisionIsNotRetriedUntilAsked() {
    String stable = stableThenNewSource("failing", m -> {});
    String canary = k8s.awaitOtherRevision("failing", stable);
    k8s.autoReady(canary);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.canary("failing").getAnalysis()).isNotEmpty());

    k8s.analysis.answer(Verdict.Fail);
    // Two failed evaluations in a row (the default failureLimit), one interval apart.
    k8s.clock.advance(Duration.ofSeconds(5));
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.canary("failing").getConsecutiveFailures()).isEqualTo(1));
    k8s.clock.advance(Duration.ofSeconds(5));

    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = status("failing");
      assertThat(status.getPhase()).isEqualTo(Phase.Degraded);
      assertThat(status.getFailedRevision()).isEqualTo(revision(canary));
      assertThat(k8s.stable("failing").getRevision()).isEqualTo(revision(stable));
      assertThat(status.getHistory()).first().satisfies(h -> {
        assertThat(h.getOutcome()).isEqualTo(Outcome.RolledBack);
        assertThat(h.getReason()).startsWith("GateFailed").contains("errorRate");
      });
      assertThat(k8s.deployment(canary)).isEmpty();
      assertThat(replicas(stable)).isEqualTo(4);
    });
    assertThat(warnings("failing")).contains("GateFailed", "RollingBack");
    assertThat(k8s.metrics.get("modelship_rollbacks").tags("name", "failing", "reason", "GateFailed").counter().count()).isEqualTo(1.0);
    assertThat(k8s.metrics.get("modelship_rollout_gate_evaluations").tags("name", "failing", "verdict", "Fail").counter().count())
        .isGreaterThanOrEqualTo(2.0);
    assertThat(k8s.metrics.get("modelship_rollout_phase").tags("name", "failing", "phase", "Degraded").gauge().value()).isEqualTo(1.0);

    // Not retried by itself...
    k8s.awaitReconciliations(3);
    assertThat(k8s.deployment(canary)).isEmpty();
    // ...until the user asks.
    k8s.analysis.answer(Verdict.Pass);
    annotate("failing", "modelship.io/retry");
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.deployment(canary)).isPresent();
      assertThat(phase("failing")).isEqualTo(Phase.Progressing);
      assertThat(k8s.get("failing").getMetadata().getAnnotations()).doesNotContainKey("modelship.io/retry");
    });
  }

  @Test
  void aDecisiveFailureRollsBackAtOnceAndTheCanaryStaysUntilTheStableIsBackAtFullSize() {
    String stable = stableThenNewSource("plain", m -> {});
    String canary = k8s.awaitOtherRevision("plain", stable);
    k8s.autoReady(canary);
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.canary("plain").getAnalysis()).isNotEmpty();
      assertThat(replicas(stable)).isEqualTo(3);
    });
    // The stable's new pods will take their time: the canary must outlive the gap.
    k8s.stopAutoReady(stable);

    k8s.analysis.answerDecisiveFail();
    k8s.clock.advance(Duration.ofSeconds(5));

    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = status("plain");
      assertThat(status.getPhase()).isEqualTo(Phase.RollingBack);
      assertThat(status.getHistory()).first().satisfies(h ->
          assertThat(h.getReason()).startsWith("GateFailed: a decisive failure, rolled back without waiting for failureLimit (2)")
              .contains("200 of 200 requests failed"));
      assertThat(replicas(stable)).as("the stable grows back at once").isEqualTo(4);
      assertThat(k8s.deployment(canary)).as("the canary is kept while the stable is short").isPresent();
      assertThat(k8s.client.services().inNamespace(OperatorHarness.NAMESPACE).withName("plain").get().getSpec().getSelector())
          .as("but gets no traffic").containsEntry("modelship.io/revision", revision(stable));
    });
    assertThat(k8s.analysis.evaluations()).as("one failed evaluation was enough").isLessThanOrEqualTo(3);
    k8s.awaitReconciliations(3);
    assertThat(k8s.deployment(canary)).isPresent();

    // A canary pod the garbage collector has not removed yet when the rollback ends: still ready, still selectable.
    var podLabels = k8s.deployment(canary).orElseThrow().getSpec().getTemplate().getMetadata().getLabels();
    k8s.client.pods().inNamespace(OperatorHarness.NAMESPACE).resource(new io.fabric8.kubernetes.api.model.PodBuilder()
        .withNewMetadata().withName("plain-canary-lingering").withLabels(podLabels).endMetadata()
        .withNewSpec().addNewContainer().withName("server").withImage("model-server").endContainer().endSpec()
        .build()).create();
    k8s.markReady(stable);
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(phase("plain")).isEqualTo(Phase.Degraded);
      assertThat(k8s.deployment(canary)).isEmpty();
    });
    k8s.awaitReconciliations(2);
    assertThat(k8s.client.services().inNamespace(OperatorHarness.NAMESPACE).withName("plain").get().getSpec().getSelector())
        .as("while a rolled-back canary's pod remains, clients reach the stable pods alone")
        .containsEntry("modelship.io/revision", revision(stable));
    k8s.client.pods().inNamespace(OperatorHarness.NAMESPACE).withName("plain-canary-lingering").delete();
    await().atMost(TIMEOUT).untilAsserted(() ->
        assertThat(k8s.client.services().inNamespace(OperatorHarness.NAMESPACE).withName("plain").get().getSpec()
            .getSelector()).doesNotContainKey("modelship.io/revision"));
  }

  @Test
  void tooLittleTrafficNeitherPromotesNorRollsBack() {
    String stable = stableThenNewSource("quiet", m -> {});
    String canary = k8s.awaitOtherRevision("quiet", stable);
    k8s.analysis.answer(Verdict.Inconclusive);
    k8s.autoReady(canary);
    int before = k8s.analysis.evaluations();
    for (int i = 0; i < 4; i++) {
      k8s.clock.advance(Duration.ofSeconds(31));
      int seen = k8s.analysis.evaluations();
      await().atMost(TIMEOUT).until(() -> k8s.analysis.evaluations() > seen);
    }
    assertThat(k8s.analysis.evaluations()).isGreaterThan(before + 3);
    var status = status("quiet");
    assertThat(status.getPhase()).isEqualTo(Phase.Progressing);
    assertThat(status.getCanary().getStep()).isZero();
    assertThat(status.getCanary().getConsecutiveFailures()).isZero();
    assertThat(condition(status, "CanaryHealthy")).isEqualTo("Unknown");
  }

  @Test
  void gatesThatNeverPassRollBackAtTheProgressDeadlineCountedFromTheReachedStep() {
    String stable = stableThenNewSource("starved", m -> {});
    String canary = k8s.awaitOtherRevision("starved", stable);
    k8s.analysis.answer(Verdict.Inconclusive);
    k8s.autoReady(canary);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.canary("starved").getStepReachedAt()).isNotNull());
    // Pause (30s) plus progressDeadline (10m) is the budget of a reached step whose gates never pass.
    k8s.clock.advance(Duration.ofMinutes(10));
    k8s.awaitReconciliations(3);
    assertThat(phase("starved")).isEqualTo(Phase.Progressing);

    k8s.clock.advance(Duration.ofMinutes(1));
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(phase("starved")).isEqualTo(Phase.Degraded);
      assertThat(k8s.status("starved").getHistory()).first().extracting(HistoryEntry::getReason).asString()
          .startsWith("ProgressDeadlineExceeded").contains("gates never passed", "Inconclusive");
      assertThat(k8s.deployment(canary)).isEmpty();
    });
  }

  @Test
  void aStepsPauseCountsFromWhenItsPodsAreReadyNotFromWhenItWasAsked() {
    String stable = stableThenNewSource("slow", m -> {});
    String canary = k8s.awaitOtherRevision("slow", stable);
    await().atMost(TIMEOUT).until(() -> phase("slow") == Phase.Progressing);
    // The canary pod takes 5 minutes to load its model: far longer than the 30s pause.
    k8s.clock.advance(Duration.ofMinutes(5));
    k8s.awaitReconciliations(2);
    k8s.autoReady(canary);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.canary("slow").getStepReachedAt()).isNotNull());
    k8s.awaitReconciliations(3);
    assertThat(k8s.canary("slow").getStep()).as("no traffic at 25% has been judged yet").isZero();

    k8s.clock.advance(Duration.ofSeconds(31));
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.canary("slow").getStep()).isEqualTo(1));
  }

  @Test
  void pausedHoldsAbortRollsBackAndPromoteSkipsTheSteps() {
    String stable = stableThenNewSource("manual", m -> ModelDeployments.rollout(m).setPaused(true));
    String canary = k8s.awaitOtherRevision("manual", stable);
    k8s.autoReady(canary);
    await().atMost(TIMEOUT).until(() -> phase("manual") == Phase.Paused);
    k8s.clock.advance(Duration.ofMinutes(5));
    k8s.awaitReconciliations(3);
    assertThat(k8s.canary("manual").getStep()).isZero();

    annotate("manual", "modelship.io/promote");
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(phase("manual")).isEqualTo(Phase.Stable);
      assertThat(k8s.stable("manual").getRevision()).isEqualTo(revision(canary));
      assertThat(k8s.deployment(stable)).isEmpty();
    });

    // A third source, aborted by hand.
    k8s.edit("manual", m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/manual/3/"));
    String third = k8s.awaitOtherRevision("manual", canary);
    await().atMost(TIMEOUT).until(() -> phase("manual") == Phase.Paused);
    annotate("manual", "modelship.io/abort");
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(phase("manual")).isEqualTo(Phase.Degraded);
      assertThat(k8s.deployment(third)).isEmpty();
      assertThat(status("manual").getHistory()).first()
          .satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Aborted));
    });
  }

  @Test
  void aCanaryThatNeverBecomesReadyIsRolledBackAtTheProgressDeadline() {
    String stable = stableThenNewSource("stuck", m -> {});
    String canary = k8s.awaitOtherRevision("stuck", stable);
    await().atMost(TIMEOUT).until(() -> phase("stuck") == Phase.Progressing);
    k8s.clock.advance(Duration.ofMinutes(9));
    k8s.awaitReconciliations(2);
    assertThat(phase("stuck")).isEqualTo(Phase.Progressing);

    k8s.clock.advance(Duration.ofMinutes(2));
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(phase("stuck")).isEqualTo(Phase.Degraded);
      assertThat(k8s.status("stuck").getHistory()).first().extracting(HistoryEntry::getReason).asString().startsWith("ProgressDeadlineExceeded");
      assertThat(k8s.deployment(canary)).isEmpty();
      assertThat(replicas(stable)).isEqualTo(4);
    });
  }

  @Test
  void waitingForAGpuNodeIsNotAFailureUntilTheSchedulingDeadline() {
    String stable = stableThenNewSource("gpu", m -> {
      var gpu = new GpuSpec();
      gpu.setCount(1);
      var resources = new ResourcesSpec();
      resources.setGpu(gpu);
      m.getSpec().setResources(resources);
    });
    String canary = k8s.awaitOtherRevision("gpu", stable);
    unschedulablePod(canary, "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.");
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(condition(status("gpu"), "Progressing", "reason")).isEqualTo("WaitingForCapacity");
      assertThat(k8s.canary("gpu").getWaitingForCapacitySince()).isNotNull();
    });
    // Past the progress deadline (10m), still only waiting: the cluster autoscaler may be adding a node.
    k8s.clock.advance(Duration.ofMinutes(20));
    k8s.awaitReconciliations(3);
    assertThat(phase("gpu")).isEqualTo(Phase.Progressing);
    assertThat(reasons("gpu")).contains("WaitingForCapacity");

    // Past the scheduling deadline (30m), it is a failure.
    k8s.clock.advance(Duration.ofMinutes(11));
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(phase("gpu")).isEqualTo(Phase.Degraded);
      assertThat(k8s.status("gpu").getHistory()).first().extracting(HistoryEntry::getReason).asString().startsWith("NoGpuCapacity");
    });
  }

  @Test
  void swapModeNeverAsksForMorePodsThanTheBudget() {
    var maxTotal = new AtomicInteger();
    Map<String, Integer> replicas = new ConcurrentHashMap<>();
    try (var watch = k8s.client.apps().deployments().inNamespace(NAMESPACE).watch(new Watcher<Deployment>() {
      @Override
      public void eventReceived(Action action, Deployment d) {
        if (action == Action.DELETED) {
          replicas.remove(d.getMetadata().getName());
        } else {
          replicas.put(d.getMetadata().getName(), d.getSpec().getReplicas());
        }
        maxTotal.accumulateAndGet(replicas.values().stream().mapToInt(Integer::intValue).sum(), Math::max);
      }

      @Override
      public void onClose(WatcherException cause) {}
    })) {
      String stable = stableThenNewSource("swap", m -> {
        ModelDeployments.rollout(m).setSurge(0);
        var gpu = new GpuSpec();
        gpu.setCount(1);
        var resources = new ResourcesSpec();
        resources.setGpu(gpu);
        m.getSpec().setResources(resources);
      });
      String canary = k8s.awaitOtherRevision("swap", stable);
      k8s.autoReady(canary);
      for (int i = 0; i < 10 && phase("swap") != Phase.Stable; i++) {
        k8s.passStep("swap");
        k8s.awaitReconciliations(2);
      }
      await().atMost(TIMEOUT).until(() -> phase("swap") == Phase.Stable && k8s.deployment(stable).isEmpty());
    }
    assertThat(maxTotal.get()).as("most pods (GPUs) ever asked for at once").isLessThanOrEqualTo(4);
  }

  @Test
  void gatewayApiWeightsFollowTheStepAndNeverReachAnUnreadyCanary() {
    String stable = stableThenNewSource("routed", m -> ModelDeployments.rollout(m).setTraffic(gatewayTraffic("routed")));
    String canary = k8s.awaitOtherRevision("routed", stable);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(weights("routed")).containsExactly(
        Map.entry(stable, 100), Map.entry(canary, 0)));
    k8s.autoReady(canary);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(weights("routed")).containsExactly(
        Map.entry(stable, 75), Map.entry(canary, 25)));
    k8s.passStep("routed");
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(weights("routed")).containsExactly(
        Map.entry(stable, 50), Map.entry(canary, 50)));
    k8s.passStep("routed");
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(weights("routed")).containsExactly(Map.entry(canary, 100)));
  }

  @Test
  void gatewayApiTrafficWithoutGatewayApiInTheClusterIsAnInvalidSpec() throws Exception {
    try (var bare = new OperatorHarness(false).start()) {
      var mdep = ModelDeployments.s3("nogw", "s3://models/nogw/1/");
      ModelDeployments.rollout(mdep).setTraffic(gatewayTraffic("nogw"));
      bare.create(mdep);
      await().atMost(TIMEOUT).untilAsserted(() -> {
        var status = bare.status("nogw");
        assertThat(status.getPhase()).isEqualTo(Phase.Failed);
        assertThat(condition(status, "Ready", "reason")).isEqualTo("InvalidSpec");
        assertThat(status.getConditions()).anySatisfy(c -> assertThat(c.getMessage())
            .contains("httproutes.gateway.networking.k8s.io", "install Gateway API and restart the operator"));
      });
      assertThat(bare.deployments()).isEmpty();
    }
  }

  @Test
  void aRestartedOperatorResumesAtTheStepItRecorded() {
    String stable = stableThenNewSource("restart", m -> {});
    String canary = k8s.awaitOtherRevision("restart", stable);
    k8s.autoReady(canary);
    k8s.passStep("restart");
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.canary("restart").getStep()).isEqualTo(1));
    String canaryUid = k8s.deployment(canary).orElseThrow().getMetadata().getUid();

    k8s.restart();
    k8s.awaitReconciliations(3);
    var status = status("restart");
    assertThat(status.getPhase()).isEqualTo(Phase.Progressing);
    assertThat(status.getCanary().getStep()).isEqualTo(1);
    assertThat(k8s.deployment(canary).orElseThrow().getMetadata().getUid()).isEqualTo(canaryUid);
    // The stable floor held across the restart: 4 pods minus the 2 ready canary pods.
    assertThat(replicas(stable)).isEqualTo(2);

    k8s.passStep("restart");
    await().atMost(TIMEOUT).until(() -> phase("restart") == Phase.Stable);
  }

  @Test
  void anOperatorRestartedInAnyPhaseResumesItWithoutRecreatingAnything() {
    var mdep = ModelDeployments.steps(ModelDeployments.s3("phases", "s3://models/phases/1/"), 25, "30s", 100, null);
    mdep.getSpec().setReplicas(4);
    k8s.create(mdep);
    String stable = k8s.awaitOtherRevision("phases", "");
    await().atMost(TIMEOUT).until(() -> phase("phases") == Phase.Pending);
    restartAndExpect("phases", Phase.Pending);

    k8s.autoReady(stable);
    await().atMost(TIMEOUT).until(() -> phase("phases") == Phase.Stable);
    restartAndExpect("phases", Phase.Stable);

    k8s.edit("phases", m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/phases/2/"));
    String canary = k8s.awaitOtherRevision("phases", stable);
    await().atMost(TIMEOUT).until(() -> phase("phases") == Phase.Progressing);
    String canaryUid = k8s.deployment(canary).orElseThrow().getMetadata().getUid();
    restartAndExpect("phases", Phase.Progressing);

    k8s.edit("phases", m -> ModelDeployments.rollout(m).setPaused(true));
    await().atMost(TIMEOUT).until(() -> phase("phases") == Phase.Paused);
    restartAndExpect("phases", Phase.Paused);

    // Promoting holds while the canary has 1 of 4 pods ready; the stable floor is 4 - 1.
    k8s.markReady(canary);
    annotate("phases", "modelship.io/promote");
    await().atMost(TIMEOUT).until(() -> phase("phases") == Phase.Promoting);
    restartAndExpect("phases", Phase.Promoting);
    assertThat(k8s.deployment(canary).orElseThrow().getMetadata().getUid()).isEqualTo(canaryUid);
    assertThat(replicas(stable)).isGreaterThanOrEqualTo(4 - 1);

    annotate("phases", "modelship.io/abort");
    await().atMost(TIMEOUT).until(() -> phase("phases") == Phase.Degraded);
    restartAndExpect("phases", Phase.Degraded);
    assertThat(k8s.deployment(canary)).isEmpty();
    assertThat(replicas(stable)).isEqualTo(4);
  }


  /** A fresh operator instance on the same apiserver keeps the phase and recreates nothing. */
  private void restartAndExpect(String name, Phase phase) {
    Map<String, String> uids = new java.util.HashMap<>();
    k8s.deployments().forEach(d -> uids.put(d.getMetadata().getName(), d.getMetadata().getUid()));
    k8s.restart();
    k8s.awaitReconciliations(3);
    assertThat(phase(name)).as("phase after a restart").isEqualTo(phase);
    k8s.deployments().stream().filter(d -> uids.containsKey(d.getMetadata().getName()))
        .forEach(d -> assertThat(d.getMetadata().getUid()).as(d.getMetadata().getName()).isEqualTo(uids.get(d.getMetadata().getName())));
  }

  private static TrafficSpec gatewayTraffic(String route) {
    var gateway = new TrafficSpec.GatewayApiTraffic();
    gateway.setHttpRoute(route);
    var parent = new TrafficSpec.ParentRef();
    parent.setName("inference-gateway");
    gateway.setParentRefs(List.of(parent));
    var traffic = new TrafficSpec();
    traffic.setGatewayAPI(gateway);
    return traffic;
  }

  private void unschedulablePod(String deployment, String message) {
    var template = k8s.deployment(deployment).orElseThrow().getSpec().getTemplate();
    k8s.client.resource(new PodBuilder()
        .withNewMetadata().withName(deployment + "-pending").withNamespace(NAMESPACE).withLabels(template.getMetadata().getLabels()).endMetadata()
        .withSpec(template.getSpec())
        .withNewStatus().withPhase("Pending")
        .withConditions(new PodConditionBuilder().withType("PodScheduled").withStatus("False").withReason("Unschedulable").withMessage(message).build())
        .endStatus().build()).create();
  }

  private Map<String, Integer> weights(String route) {
    HTTPRoute r = k8s.client.resources(HTTPRoute.class).inNamespace(NAMESPACE).withName(route).get();
    if (r == null) {
      return Map.of();
    }
    var weights = new java.util.LinkedHashMap<String, Integer>();
    r.getSpec().getRules().get(0).getBackendRefs().stream()
        .filter(b -> b.getWeight() > 0 || r.getSpec().getRules().get(0).getBackendRefs().size() > 1)
        .forEach(b -> weights.put(b.getName(), b.getWeight()));
    return weights;
  }

  private void annotate(String name, String annotation) {
    k8s.edit(name, m -> m.getMetadata().setAnnotations(new java.util.HashMap<>(Map.of(annotation, "true"))));
  }

  private ModelDeploymentStatus status(String name) {
    return k8s.status(name);
  }

  private Phase phase(String name) {
    return k8s.phase(name);
  }

  private int replicas(String deployment) {
    return k8s.replicas(deployment);
  }

  private static String revision(String deployment) {
    return deployment.substring(deployment.lastIndexOf('-') + 1);
  }

  private static String condition(ModelDeploymentStatus status, String type) {
    return condition(status, type, "status");
  }

  private static String condition(ModelDeploymentStatus status, String type, String field) {
    var c = OperatorHarness.condition(status, type);
    return field.equals("reason") ? c.getReason() : c.getStatus();
  }

  private List<Event> events(String name) {
    return k8s.events(name);
  }

  private List<String> reasons(String name) {
    return k8s.reasons(name);
  }

  private List<String> warnings(String name) {
    return k8s.warnings(name);
  }
}
