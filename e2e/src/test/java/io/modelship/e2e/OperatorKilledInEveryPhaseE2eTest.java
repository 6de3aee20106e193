package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.rollout.PodSignals;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The operator SIGKILLed in every phase a rollout passes through (Pending, Stable, Progressing, Paused, Promoting,
 * RollingBack, Degraded) and replaced, as a node loss would, on the real cluster while clients call the model. Each
 * time the new operator resumes from what status recorded: the phase and step are kept, no revision is created twice,
 * no decision is taken twice or lost, the pods that serve never fall below the replicas asked for, and no client
 * request fails. Promoting and RollingBack last only while pods start: the kill lands inside them.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class OperatorKilledInEveryPhaseE2eTest {
  private static final String NAMESPACE = "e2e-killed";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);

  private Mdeps mdep = new Mdeps(ns.cluster(), NAMESPACE, "phases");
  /** Every Deployment uid seen per revision Deployment name: one each, or a revision was created twice. */
  private final Map<String, Set<String>> uids = new ConcurrentHashMap<>();
  private final AtomicInteger mostRevisions = new AtomicInteger();
  /** The fewest ready model-server pods seen once the first revision was stable. */
  private final AtomicInteger fewestReady = new AtomicInteger(Integer.MAX_VALUE);
  private final AtomicBoolean floorWatched = new AtomicBoolean();
  private final List<String> resumedAfter = new ArrayList<>();

  @Test
  void anOperatorKilledInEveryPhaseResumesItAndLosesNothing() throws Exception {
    String v1 = ns.store().putMlp("killed/1", new Mlp(4, 16, 1, 3, 71));
    String v2 = ns.store().putMlp("killed/2", new Mlp(4, 16, 1, 3, 72));
    String v3 = ns.store().putMlp("killed/3", new Mlp(4, 16, 1, 3, 73));
    ns.cluster().client().resource(Specs.errorRateGate(Specs.steps(Specs.s3(NAMESPACE, "phases", ns.store(), v1, 2),
        50, "10m", 100, null), "2s", 10, 0.05)).create();
    var sampler = Executors.newSingleThreadScheduledExecutor();
    sampler.scheduleWithFixedDelay(this::sample, 0, 250, TimeUnit.MILLISECONDS);
    try {
      await("v1's Deployment made").atMost(Duration.ofMinutes(1))
          .untilAsserted(() -> assertThat(mdep.revisionDeployments()).hasSize(1));
      killIn(Phase.Pending);
      await("v1 stable").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
        assertThat(mdep.phase()).isEqualTo(Phase.Stable);
        assertThat(mdep.stable().getReadyReplicas()).isEqualTo(2);
      });
      floorWatched.set(true);

      try (Traffic traffic = new Traffic(mdep.clusterIp(), "phases", Traffic.IRIS_BODY, 20, 8)) {
        killIn(Phase.Stable);
        mdep.newSource(v2);
        await("v2 at its 50 % step").atMost(Duration.ofMinutes(3)).untilAsserted(() ->
            assertThat(mdep.canary().getStepReachedAt()).isNotNull());
        String reachedAt = mdep.canary().getStepReachedAt();
        killIn(Phase.Progressing);
        assertThat(mdep.canary().getStepReachedAt()).as("the step, reached before the kill").isEqualTo(reachedAt);

        mdep.edit(m -> Specs.rollout(m).setPaused(true));
        await("paused").atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(mdep.phase()).isEqualTo(Phase.Paused));
        killIn(Phase.Paused);

        mdep.edit(m -> {
          Specs.rollout(m).setPaused(false);
          annotate("modelship.io/promote").accept(m);
        });
        awaitPhaseThenKill(Phase.Promoting);
        await("v2 promoted").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
          assertThat(mdep.phase()).isEqualTo(Phase.Stable);
          assertThat(mdep.status().getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
          assertThat(mdep.revisionDeployments()).hasSize(1);
          assertThat(mdep.stable().getReadyReplicas()).isEqualTo(2);
        });

        mdep.newSource(v3);
        // The step settled: the stable revision down to its one pod, so the rollback has a pod to bring back and
        // lasts while it starts (with two still ready it would end in the pass that begins it).
        await("v3 at its 50 % step, v2 down to one pod").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
          assertThat(mdep.canary().getStepReachedAt()).isNotNull();
          assertThat(mdep.stable().getReadyReplicas()).isEqualTo(1);
        });
        mdep.edit(annotate("modelship.io/abort"));
        awaitPhaseThenKill(Phase.RollingBack);
        await("v3 aborted and rolled back").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
          assertThat(mdep.phase()).isEqualTo(Phase.Degraded);
          assertThat(mdep.status().getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Aborted));
          assertThat(mdep.revisionDeployments()).hasSize(1);
          assertThat(mdep.stable().getReadyReplicas()).isEqualTo(2);
        });
        killIn(Phase.Degraded);

        RealCluster.progress(("OperatorKilledInEveryPhaseE2eTest: %d kills; a new operator ready after %s; fewest ready"
            + " model-server pods once stable %d, most revision Deployments at once %d; answers: %s")
            .formatted(resumedAfter.size(), resumedAfter, fewestReady.get(), mostRevisions.get(), traffic.answers()));
        assertThat(traffic.failures()).as("client-visible failures: %s", traffic.failureSamples()).isZero();
      }
    } finally {
      sampler.shutdownNow();
    }
    assertThat(mdep.status().getHistory()).extracting(h -> h.getOutcome())
        .as("each rollout decided once").containsExactly(Outcome.Aborted, Outcome.Promoted);
    assertThat(mdep.reasons()).filteredOn("RolloutStarted"::equals).as("rollouts started").hasSize(2);
    assertThat(uids).as("revision Deployments and their uids").hasSize(3)
        .allSatisfy((name, seen) -> assertThat(seen).as(name).hasSize(1));
    assertThat(mostRevisions.get()).as("revision Deployments at once").isLessThanOrEqualTo(2);
    assertThat(fewestReady.get()).as("fewest ready model-server pods once stable").isGreaterThanOrEqualTo(2);
  }

  /**
   * The same with strategy inPlace: killed while the running pods fetch and load v2 beside v1, at the reached step,
   * and paused. The two pods are never replaced nor restarted, and the rollout ends as it would have.
   */
  @Test
  void anOperatorKilledDuringAnInPlaceRolloutResumesItInTheSamePods() throws Exception {
    mdep = new Mdeps(ns.cluster(), NAMESPACE, "inplace");
    String v1 = ns.store().putMlp("killed/inplace-1", new Mlp(4, 16, 1, 3, 81));
    String v2 = ns.store().putMlp("killed/inplace-2", new Mlp(4, 16, 1, 3, 82));
    var spec = Specs.errorRateGate(Specs.steps(Specs.s3(NAMESPACE, "inplace", ns.store(), v1, 2),
        50, "10m", 100, null), "2s", 10, 0.05);
    Specs.rollout(spec).setStrategy("inPlace");
    ns.cluster().client().resource(spec).create();
    var sampler = Executors.newSingleThreadScheduledExecutor();
    sampler.scheduleWithFixedDelay(this::sample, 0, 250, TimeUnit.MILLISECONDS);
    try {
      await("v1 stable").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
        assertThat(mdep.phase()).isEqualTo(Phase.Stable);
        assertThat(mdep.stable().getReadyReplicas()).isEqualTo(2);
      });
      floorWatched.set(true);
      Map<String, String> pods = podUidsAndRestarts();
      try (Traffic traffic = new Traffic(mdep.clusterIp(), "inplace", Traffic.IRIS_BODY, 20, 8)) {
        mdep.newSource(v2);
        // Killed the moment the rollout shows: the pods are fetching or loading v2 beside v1.
        await("the in-place rollout started").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(50))
            .untilAsserted(() -> assertThat(mdep.canary()).isNotNull());
        kill(Phase.Progressing + " (" + mdep.condition("Progressing", "reason") + ")");
        await("v2 at its 50 % step in place").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
          assertThat(mdep.canary().getStepReachedAt()).isNotNull();
          assertThat(mdep.canary().getHost()).isEqualTo(mdep.stable().getRevision());
        });
        String reachedAt = mdep.canary().getStepReachedAt();
        killIn(Phase.Progressing);
        assertThat(mdep.canary().getStepReachedAt()).as("the step, reached before the kill").isEqualTo(reachedAt);

        mdep.edit(m -> Specs.rollout(m).setPaused(true));
        killIn(Phase.Paused);
        mdep.edit(m -> {
          Specs.rollout(m).setPaused(false);
          annotate("modelship.io/promote").accept(m);
        });
        await("v2 promoted in place").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
          assertThat(mdep.phase()).isEqualTo(Phase.Stable);
          assertThat(mdep.status().getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
        });
        RealCluster.progress(("OperatorKilledInEveryPhaseE2eTest in place: %d kills; a new operator ready after %s;"
            + " fewest ready pods %d; answers: %s").formatted(resumedAfter.size(), resumedAfter, fewestReady.get(),
            traffic.answers()));
        assertThat(traffic.failures()).as("client-visible failures: %s", traffic.failureSamples()).isZero();
      }
      assertThat(podUidsAndRestarts()).as("the same two pods, never restarted").isEqualTo(pods);
    } finally {
      sampler.shutdownNow();
    }
    assertThat(mdep.status().getHistory()).extracting(h -> h.getOutcome()).containsExactly(Outcome.Promoted);
    assertThat(mdep.reasons()).filteredOn("RolloutStarted"::equals).as("rollouts started").hasSize(1);
    assertThat(uids).as("one Deployment, one uid").hasSize(1)
        .allSatisfy((name, seen) -> assertThat(seen).as(name).hasSize(1));
    assertThat(fewestReady.get()).as("fewest ready model-server pods once stable").isGreaterThanOrEqualTo(2);
  }

  /** Each model-server pod's uid with its containers' restart count. */
  private Map<String, String> podUidsAndRestarts() {
    Map<String, String> pods = new java.util.TreeMap<>();
    ns.cluster().client().pods().inNamespace(NAMESPACE).withLabel("modelship.io/deployment", mdep.name).list().getItems()
        .stream().filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .forEach(p -> pods.put(p.getMetadata().getUid(), String.valueOf(p.getStatus().getContainerStatuses().stream()
            .mapToInt(c -> c.getRestartCount() == null ? 0 : c.getRestartCount()).sum())));
    return pods;
  }

  /** Kills the operator in {@code phase}, which the ModelDeployment is in now, and waits until a new one acts. */
  private void killIn(Phase phase) throws Exception {
    await("phase " + phase).atMost(Duration.ofMinutes(1))
        .untilAsserted(() -> assertThat(mdep.phase()).isEqualTo(phase));
    kill(phase.toString());
    assertThat(mdep.phase()).as("the phase after the operator came back").isIn(phase, next(phase));
  }

  /** Waits for a short-lived phase (it lasts while pods start), and kills the operator the moment it shows. */
  private void awaitPhaseThenKill(Phase phase) throws Exception {
    await(phase + " seen").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(50))
        .untilAsserted(() -> assertThat(mdep.phase()).isEqualTo(phase));
    kill(phase.toString());
  }

  /** SIGKILLs the operator, replaces its pod and waits for the new one; {@code when} names the moment in the report. */
  private void kill(String when) throws Exception {
    Pod operator = operatorPod();
    long killed = System.nanoTime();
    ns.cluster().sigkill(operator.getMetadata().getName());
    // Replaced, not restarted in place: the kubelet's restart back-off (10 s, 20 s, 40 s, ...) would pace the test.
    ns.cluster().client().pods().inNamespace(RealCluster.OPERATOR_NAMESPACE).resource(operator)
        .withGracePeriod(0).delete();
    // Back: a new operator pod, ready.
    await("a new operator ready").atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
      Pod now = operatorPod();
      assertThat(now.getMetadata().getUid()).isNotEqualTo(operator.getMetadata().getUid());
      assertThat(PodSignals.ready(now)).isTrue();
    });
    resumedAfter.add("%s %d s".formatted(when, Duration.ofNanos(System.nanoTime() - killed).toSeconds()));
  }

  private static Phase next(Phase phase) {
    return switch (phase) {
      case Pending -> Phase.Stable;
      case Promoting -> Phase.Stable;
      case RollingBack -> Phase.Degraded;
      default -> phase;
    };
  }

  private static Consumer<io.modelship.operator.api.ModelDeployment> annotate(String annotation) {
    return m -> {
      Map<String, String> annotations = m.getMetadata().getAnnotations() == null
          ? new HashMap<>() : new HashMap<>(m.getMetadata().getAnnotations());
      annotations.put(annotation, "true");
      m.getMetadata().setAnnotations(annotations);
    };
  }

  private static Pod operatorPod() {
    List<Pod> pods = ns.cluster().client().pods().inNamespace(RealCluster.OPERATOR_NAMESPACE).list().getItems()
        .stream().filter(p -> p.getMetadata().getDeletionTimestamp() == null).toList();
    assertThat(pods).as("operator pods").hasSize(1);
    return pods.get(0);
  }

  /** Four times a second, what the cluster really has (not what status says: the operator may be dead). */
  private void sample() {
    var client = ns.cluster().client();
    try {
      List<Deployment> revisions = client.apps().deployments().inNamespace(NAMESPACE).list().getItems().stream()
          .filter(d -> d.getMetadata().getName().startsWith(mdep.name + "-")).toList();
      revisions.forEach(d -> uids.computeIfAbsent(d.getMetadata().getName(), n -> ConcurrentHashMap.newKeySet())
          .add(d.getMetadata().getUid()));
      mostRevisions.accumulateAndGet(revisions.size(), Math::max);
      if (floorWatched.get()) {
        int ready = (int) client.pods().inNamespace(NAMESPACE).withLabel("modelship.io/deployment", mdep.name).list()
            .getItems().stream().filter(p -> p.getMetadata().getDeletionTimestamp() == null)
            .filter(PodSignals::ready).count();
        fewestReady.accumulateAndGet(ready, Math::min);
      }
    } catch (RuntimeException e) {
      // the API server busy for a moment: the next sample counts
    }
  }
}
