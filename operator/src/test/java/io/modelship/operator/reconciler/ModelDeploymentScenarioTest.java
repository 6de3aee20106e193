package io.modelship.operator.reconciler;

import static io.modelship.operator.testing.OperatorHarness.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.modelship.operator.api.CrdConstants;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.GpuSpec;
import io.modelship.operator.api.spec.ResourcesSpec;
import io.modelship.operator.api.spec.SchedulingSpec;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.resources.RevisionPin;
import io.modelship.operator.testing.ModelDeployments;
import io.modelship.operator.testing.OperatorHarness;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Whole reconciliations against the mock apiserver: what a user applies, and what the cluster ends up with. */
class ModelDeploymentScenarioTest {
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
  void deploysOneRevisionWithFetchAndServeContainersGpuAndHardening() {
    var mdep = ModelDeployments.s3("sentiment", "s3://models/sentiment/7/");
    var gpu = new GpuSpec();
    gpu.setCount(1);
    gpu.setType("NVIDIA-A100-SXM4-40GB");
    var resources = new ResourcesSpec();
    resources.setCpu(new Quantity("2"));
    resources.setMemory(new Quantity("4Gi"));
    resources.setGpu(gpu);
    mdep.getSpec().setResources(resources);
    var scheduling = new SchedulingSpec();
    scheduling.setTolerations(List.of(new TolerationBuilder().withKey("dedicated").withValue("ml").withEffect("NoSchedule").build()));
    scheduling.setPriorityClassName("inference");
    mdep.getSpec().setScheduling(scheduling);
    var created = k8s.create(mdep);

    Deployment d = awaitSingleRevisionDeployment("sentiment");
    assertThat(d.getMetadata().getName()).matches("sentiment-[0-9a-f]{10}");
    assertThat(d.getSpec().getReplicas()).isEqualTo(2);
    assertOwnedBy(d, created);

    var pod = d.getSpec().getTemplate().getSpec();
    Container fetch = pod.getInitContainers().get(0);
    assertThat(fetch.getArgs()).containsExactly("fetch");
    assertThat(env(fetch)).containsEntry("MODELSHIP_SOURCE", "s3://models/sentiment/7/")
        .containsEntry("OPT_OUT_TRACKING", "true").containsEntry("DJL_OFFLINE", "true")
        .containsEntry("ORT_DISABLE_TELEMETRY", "1");
    Container serve = pod.getContainers().get(0);
    assertThat(serve.getArgs()).containsExactly("serve");
    assertThat(env(serve)).containsEntry("MODELSHIP_MODEL_NAME", "sentiment");
    assertThat(serve.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/v2/health/ready");
    assertThat(serve.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/v2/health/live");
    assertThat(env(serve)).containsEntry("ORT_DISABLE_TELEMETRY", "1");
    // The first startup probe comes after a normal start has had time to listen, and the server holds its answer
    // while the model warms up (longer than the probe's timeout would allow otherwise): no failed probe, no Warning.
    assertThat(serve.getStartupProbe().getInitialDelaySeconds()).isGreaterThanOrEqualTo(2);
    assertThat(serve.getStartupProbe().getHttpGet().getPath()).isEqualTo("/v2/health/ready?waitSeconds=30");
    assertThat(serve.getStartupProbe().getTimeoutSeconds()).isGreaterThan(30);
    // Keep serving while kube-proxy drops the endpoints, then the server drains (Connection: close, in flight).
    assertThat(serve.getLifecycle().getPreStop().getSleep().getSeconds()).isEqualTo(5L);
    assertThat(pod.getTerminationGracePeriodSeconds()).isGreaterThan(5L + 2 + 25);
    assertThat(serve.getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("1"))
        .containsEntry("memory", new Quantity("4Gi"));
    assertThat(serve.getResources().getRequests()).containsEntry("cpu", new Quantity("2"));
    assertThat(pod.getNodeSelector()).containsEntry("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-40GB");
    assertThat(pod.getTolerations()).extracting("key").containsExactlyInAnyOrder("dedicated", "nvidia.com/gpu");
    assertThat(pod.getPriorityClassName()).isEqualTo("inference");
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    for (Container c : List.of(fetch, serve)) {
      assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).as(c.getName()).isTrue();
      assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).as(c.getName()).isFalse();
      assertThat(c.getSecurityContext().getCapabilities().getDrop()).as(c.getName()).containsExactly("ALL");
    }

    var client = k8s.client.services().inNamespace(NAMESPACE).withName("sentiment").get();
    assertThat(client.getSpec().getSelector()).containsExactly(Map.entry(CrdConstants.LABEL_DEPLOYMENT, "sentiment"));
    assertOwnedBy(client, created);
    var perRevision = k8s.client.services().inNamespace(NAMESPACE).withName(d.getMetadata().getName()).get();
    assertThat(perRevision.getSpec().getSelector()).containsEntry(CrdConstants.LABEL_REVISION, revisionOf(d));
    assertOwnedBy(perRevision, created);

    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = k8s.status("sentiment");
      assertThat(status.getPhase()).isEqualTo(Phase.Pending);
      assertThat(condition(status.getConditions(), Conditions.READY).getStatus()).isEqualTo("False");
      assertThat(status.getObservedGeneration()).isEqualTo(created.getMetadata().getGeneration());
    });
  }

  @Test
  void migProfileRequestsMigSlicesInsteadOfWholeGpus() {
    var mdep = ModelDeployments.s3("mig", "s3://models/mig/1/");
    var gpu = new GpuSpec();
    gpu.setCount(2);
    gpu.setMigProfile("1g.5gb");
    var resources = new ResourcesSpec();
    resources.setGpu(gpu);
    mdep.getSpec().setResources(resources);
    k8s.create(mdep);

    var limits = awaitSingleRevisionDeployment("mig").getSpec().getTemplate().getSpec().getContainers().get(0)
        .getResources().getLimits();
    assertThat(limits).containsEntry("nvidia.com/mig-1g.5gb", new Quantity("2")).doesNotContainKey("nvidia.com/gpu");
  }

  @Test
  void readyRevisionBecomesStableAndANewSourceReplacesItOnlyOnceReady() {
    // One step at 100%: a blue/green swap.
    k8s.create(ModelDeployments.steps(ModelDeployments.s3("sentiment", "s3://models/sentiment/7/"), 100, null));
    String first = awaitSingleRevisionDeployment("sentiment").getMetadata().getName();
    k8s.markReady(first);
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = k8s.status("sentiment");
      assertThat(status.getPhase()).isEqualTo(Phase.Stable);
      assertThat(k8s.stable("sentiment").getReadyReplicas()).isEqualTo(2);
      assertThat(condition(status.getConditions(), Conditions.READY).getStatus()).isEqualTo("True");
    });

    k8s.edit("sentiment", mdep -> {
      mdep.getSpec().getModel().getSource().getS3().setUri("s3://models/sentiment/8/");
    });

    await().atMost(TIMEOUT).until(() -> k8s.deployments().size() == 2);
    String second = k8s.deployments().stream().map(d -> d.getMetadata().getName()).filter(n -> !n.equals(first)).findFirst().orElseThrow();
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = k8s.status("sentiment");
      assertThat(status.getPhase()).isEqualTo(Phase.Progressing);
      assertThat(k8s.stable("sentiment").getRevision()).isEqualTo(first.substring("sentiment-".length()));
      assertThat(k8s.canary("sentiment").getRevision()).isEqualTo(second.substring("sentiment-".length()));
    });
    // The old revision keeps serving for as long as the new one is not ready.
    k8s.awaitReconciliations(2);
    assertThat(k8s.deployment(first)).isPresent();

    k8s.autoReady(second);
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.deployment(first)).isEmpty();
      assertThat(k8s.client.services().inNamespace(NAMESPACE).withName(first).get()).isNull();
      var status = k8s.status("sentiment");
      assertThat(status.getPhase()).isEqualTo(Phase.Stable);
      assertThat(k8s.stable("sentiment").getRevision()).isEqualTo(second.substring("sentiment-".length()));
      assertThat(status.getCanary()).isNull();
    });
    assertThat(events("sentiment")).extracting(Event::getReason).contains("Promoted");
  }

  @Test
  void scalingKeepsTheSameRevision() {
    k8s.create(ModelDeployments.s3("scaled", "s3://models/scaled/1/"));
    String name = awaitSingleRevisionDeployment("scaled").getMetadata().getName();
    k8s.edit("scaled", mdep -> {
      mdep.getSpec().setReplicas(5);
    });

    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.replicas(name)).isEqualTo(5));
    assertThat(k8s.deployments()).hasSize(1);
  }

  @Test
  void aDisruptionBudgetEvictsTheModelDeploymentsPodsOneAtATime() {
    k8s.create(ModelDeployments.s3("drained", "s3://models/drained/1/"));
    awaitSingleRevisionDeployment("drained");
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var budget = k8s.client.policy().v1().podDisruptionBudget().inNamespace(NAMESPACE).withName("drained").get();
      assertThat(budget).as("the PodDisruptionBudget").isNotNull();
      // Every revision's pods, the canary's too: the selector is the ModelDeployment's, not a revision's.
      assertThat(budget.getSpec().getSelector().getMatchLabels())
          .containsExactlyEntriesOf(java.util.Map.of("modelship.io/deployment", "drained"));
      assertThat(budget.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
      assertThat(budget.getSpec().getMinAvailable()).isNull();
      assertThat(budget.getSpec().getUnhealthyPodEvictionPolicy()).isEqualTo("AlwaysAllow");
      assertThat(budget.getMetadata().getOwnerReferences()).singleElement()
          .satisfies(owner -> assertThat(owner.getName()).isEqualTo("drained"));
    });
  }

  @Test
  void aNetworkPolicyLetsInOnlyClientsAndTheModelsOwnPodsAndGoesWhenTurnedOff() {
    k8s.create(ModelDeployments.s3("fenced", "s3://models/fenced/1/"));
    String revision = awaitSingleRevisionDeployment("fenced").getMetadata().getName();
    var own = new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder().withNewPodSelector()
        .addToMatchLabels("modelship.io/deployment", "fenced").endPodSelector().build();
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var policy = policy("fenced");
      assertThat(policy).as("the NetworkPolicy").isNotNull();
      // Every revision's pods, the canary's too, on the model server's port only.
      assertThat(policy.getSpec().getPodSelector().getMatchLabels())
          .containsExactlyEntriesOf(Map.of("modelship.io/deployment", "fenced"));
      assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
      assertThat(policy.getSpec().getIngress()).singleElement().satisfies(rule -> {
        assertThat(rule.getPorts()).singleElement().satisfies(port -> assertThat(port.getPort().getIntVal()).isEqualTo(8080));
        // By default: the namespace's pods, labelled clients anywhere, and the model's own pods (shadow mirroring).
        assertThat(rule.getFrom()).hasSize(3).contains(own);
        assertThat(rule.getFrom().get(0).getPodSelector().getMatchLabels()).isNullOrEmpty();
        assertThat(rule.getFrom().get(0).getNamespaceSelector()).isNull();
        assertThat(rule.getFrom().get(1).getPodSelector().getMatchLabels())
            .containsExactlyEntriesOf(Map.of("modelship.io/client", "true"));
      });
      assertThat(policy.getMetadata().getOwnerReferences()).singleElement()
          .satisfies(owner -> assertThat(owner.getName()).isEqualTo("fenced"));
    });

    // Clients named in the spec replace the defaults; the model's own pods stay let in.
    var payments = new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder().withNewNamespaceSelector()
        .addToMatchLabels("team", "payments").endNamespaceSelector().build();
    k8s.edit("fenced", m -> {
      var spec = new io.modelship.operator.api.spec.NetworkPolicySpec();
      spec.setFrom(List.of(payments));
      m.getSpec().setNetworkPolicy(spec);
    });
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(policy("fenced").getSpec().getIngress().get(0).getFrom())
        .containsExactly(payments, own));

    k8s.edit("fenced", m -> m.getSpec().getNetworkPolicy().setEnabled(false));
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(policy("fenced")).as("the NetworkPolicy").isNull());
    assertThat(k8s.deployments()).as("who may connect shapes no pod: no new revision")
        .extracting(d -> d.getMetadata().getName()).containsExactly(revision);
  }

  private io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy policy(String name) {
    return k8s.client.network().v1().networkPolicies().inNamespace(NAMESPACE).withName(name).get();
  }

  @Test
  void aReconcileThatChangesNothingWritesNothing() {
    k8s.create(ModelDeployments.s3("quiet", "s3://models/quiet/1/"));
    String name = awaitSingleRevisionDeployment("quiet").getMetadata().getName();
    k8s.markReady(name);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.phase("quiet")).isEqualTo(Phase.Stable));
    // Let the reconciles that our own writes triggered settle, then count.
    k8s.awaitReconciliations(2);

    int before = k8s.dispatcher.writes().size();
    k8s.awaitReconciliations(5);
    assertThat(k8s.dispatcher.writes().subList(before, k8s.dispatcher.writes().size()))
        .as("API writes during five reconciliations of an unchanged ModelDeployment")
        .isEmpty();
  }

  @Test
  void anInvalidSpecIsReportedWithAnEventAndDeploysNothing() {
    var mdep = ModelDeployments.s3("broken", "s3://models/broken/1/");
    var gpu = new GpuSpec();
    gpu.setType("NVIDIA-L4");
    var resources = new ResourcesSpec();
    resources.setGpu(gpu);
    mdep.getSpec().setResources(resources);
    mdep.getSpec().getModel().getSource().getS3().setCredentialsSecret("s3-creds");
    k8s.create(mdep);

    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = k8s.status("broken");
      assertThat(status.getPhase()).isEqualTo(Phase.Failed);
      var ready = condition(status.getConditions(), Conditions.READY);
      assertThat(ready.getStatus()).isEqualTo("False");
      assertThat(ready.getReason()).isEqualTo("InvalidSpec");
      assertThat(ready.getMessage())
          .contains("spec.resources.gpu.count is required")
          .contains("Secret 's3-creds' named in spec.model.source.s3.credentialsSecret does not exist");
    });
    assertThat(events("broken")).anySatisfy(e -> {
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getReason()).isEqualTo("InvalidSpec");
    });
    // The status above is written by the same pass that would have deployed: nothing was.
    assertThat(k8s.deployments()).isEmpty();
    assertThat(k8s.client.services().inNamespace(NAMESPACE).list().getItems()).isEmpty();
  }

  @Test
  void aSpecBrokenLaterLeavesTheRunningRevisionServing() {
    k8s.create(ModelDeployments.s3("steady", "s3://models/steady/1/"));
    String name = awaitSingleRevisionDeployment("steady").getMetadata().getName();
    k8s.markReady(name);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.phase("steady")).isEqualTo(Phase.Stable));

    k8s.edit("steady", mdep -> {
      mdep.getSpec().getModel().getSource().getS3().setUri("s3://models/steady/2/");
      mdep.getSpec().getModel().getSource().getS3().setCredentialsSecret("missing");
    });

    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = k8s.status("steady");
      assertThat(status.getPhase()).isEqualTo(Phase.Degraded);
      assertThat(condition(status.getConditions(), Conditions.READY).getMessage()).contains("keeps serving");
      assertThat(k8s.stable("steady").getRevision()).isEqualTo(name.substring("steady-".length()));
    });
    assertThat(k8s.deployments()).extracting(d -> d.getMetadata().getName()).containsExactly(name);

    // Creating the Secret is enough: the operator looks again by itself, and the new source starts as a canary.
    k8s.client.resource(new SecretBuilder().withNewMetadata().withName("missing").withNamespace(NAMESPACE).endMetadata()
        .addToStringData("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE").addToStringData("AWS_SECRET_ACCESS_KEY", "example-secret").build()).create();
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = k8s.status("steady");
      assertThat(status.getPhase()).isEqualTo(Phase.Progressing);
      assertThat(k8s.stable("steady").getRevision()).isEqualTo(name.substring("steady-".length()));
      assertThat(k8s.deployments()).hasSize(2);
    });
  }

  @Test
  void theFetchStepsReportBecomesTheRevisionsVersionAndDigest() {
    k8s.create(ModelDeployments.s3("digest", "s3://models/digest/3/"));
    Deployment d = awaitSingleRevisionDeployment("digest");
    String digest = "a".repeat(64);
    createPod(d, "digest-pod-1", 0,
        "{\"source\":\"s3://models/digest/3/\",\"resolvedUri\":\"s3://models/digest/3/\",\"modelVersion\":\"3\",\"sha256\":\"" + digest + "\",\"bytes\":10,\"files\":1}");
    k8s.markReady(d.getMetadata().getName());

    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = k8s.status("digest");
      assertThat(k8s.stable("digest").getDigest()).isEqualTo(digest);
      assertThat(k8s.stable("digest").getModelVersion()).isEqualTo("3");
      assertThat(condition(status.getConditions(), Conditions.ARTIFACT_RESOLVED).getStatus()).isEqualTo("True");
    });
    // The bytes are pinned: every later pod's fetch step must find the digest the first one verified.
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.client.configMaps().inNamespace(NAMESPACE)
        .withName(d.getMetadata().getName()).get()).isNotNull()
        .satisfies(cm -> assertThat(cm.getData()).containsExactly(Map.entry(RevisionPin.KEY, digest))));
    var pinned = d.getSpec().getTemplate().getSpec().getInitContainers().get(0).getEnv().stream()
        .filter(e -> RevisionPin.ENV.equals(e.getName())).findFirst().orElseThrow();
    assertThat(pinned.getValueFrom().getConfigMapKeyRef().getName()).isEqualTo(d.getMetadata().getName());
    assertThat(pinned.getValueFrom().getConfigMapKeyRef().getOptional()).isTrue();

    // A digest the user wrote is required from the first pod on: nothing to pin.
    var given = ModelDeployments.s3("given", "s3://models/given/3/");
    given.getSpec().getModel().setSha256(digest);
    k8s.create(given);
    Deployment g = awaitSingleRevisionDeployment("given");
    assertThat(env(g.getSpec().getTemplate().getSpec().getInitContainers().get(0)))
        .containsEntry("MODELSHIP_SHA256", digest).doesNotContainKey(RevisionPin.ENV);
    assertThat(g.getSpec().getTemplate().getSpec().getInitContainers().get(0).getEnv())
        .noneMatch(e -> RevisionPin.ENV.equals(e.getName()));
  }

  @Test
  void aFailedFetchIsReportedWithItsMessage() {
    k8s.create(ModelDeployments.s3("nofile", "s3://models/nofile/1/"));
    Deployment d = awaitSingleRevisionDeployment("nofile");
    createPod(d, "nofile-pod-1", 3,
        "{\"error\":\"artifact not found: s3://models/nofile/1/ has no objects\",\"exitCode\":3}");

    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = k8s.status("nofile");
      assertThat(status.getPhase()).isEqualTo(Phase.Failed);
      var resolved = condition(status.getConditions(), Conditions.ARTIFACT_RESOLVED);
      assertThat(resolved.getStatus()).isEqualTo("False");
      assertThat(resolved.getReason()).isEqualTo("FetchFailed");
      assertThat(resolved.getMessage()).contains("exited with code 3", "permanent", "has no objects")
          .doesNotContain("{");
    });
    assertThat(events("nofile")).anySatisfy(e -> assertThat(e.getReason()).isEqualTo("FetchFailed"));
  }

  @Test
  void aRestartedOperatorResumesWithoutRecreatingAnything() {
    k8s.create(ModelDeployments.s3("resume", "s3://models/resume/1/"));
    String name = awaitSingleRevisionDeployment("resume").getMetadata().getName();
    String uid = k8s.deployment(name).orElseThrow().getMetadata().getUid();
    k8s.restart();
    k8s.markReady(name);

    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.phase("resume")).isEqualTo(Phase.Stable));
    assertThat(k8s.deployment(name).orElseThrow().getMetadata().getUid()).isEqualTo(uid);
    assertThat(k8s.deployments()).hasSize(1);
  }

  private Deployment awaitSingleRevisionDeployment(String mdepName) {
    await().atMost(TIMEOUT).until(() -> k8s.deployments().stream()
        .anyMatch(d -> mdepName.equals(d.getMetadata().getLabels().get(CrdConstants.LABEL_DEPLOYMENT))));
    return k8s.deployments().stream()
        .filter(d -> mdepName.equals(d.getMetadata().getLabels().get(CrdConstants.LABEL_DEPLOYMENT)))
        .findFirst().orElseThrow();
  }

  private void createPod(Deployment d, String podName, int fetchExitCode, String terminationMessage) {
    k8s.fetchedPod(d, podName, fetchExitCode, terminationMessage);
  }

  private List<Event> events(String involved) {
    return k8s.client.v1().events().inNamespace(NAMESPACE).list().getItems().stream()
        .filter(e -> involved.equals(e.getInvolvedObject().getName())).toList();
  }

  private static Map<String, String> env(Container c) {
    return c.getEnv().stream().filter(e -> e.getValue() != null)
        .collect(java.util.stream.Collectors.toMap(e -> e.getName(), e -> e.getValue(), (a, b) -> b));
  }

  private static String revisionOf(Deployment d) {
    return d.getMetadata().getLabels().get(CrdConstants.LABEL_REVISION);
  }

  private static void assertOwnedBy(HasMetadata owned, ModelDeployment owner) {
    assertThat(owned.getMetadata().getOwnerReferences()).singleElement().satisfies(ref -> {
      assertThat(ref.getKind()).isEqualTo("ModelDeployment");
      assertThat(ref.getName()).isEqualTo(owner.getMetadata().getName());
      assertThat(ref.getUid()).isEqualTo(owner.getMetadata().getUid());
      assertThat(ref.getController()).isTrue();
    });
  }

  static Condition condition(List<Condition> conditions, String type) {
    return Optional.ofNullable(conditions).flatMap(c -> Conditions.find(c, type))
        .orElseThrow(() -> new AssertionError("no " + type + " condition in " + conditions));
  }
}
