package io.modelship.operator.reconciler;

import static io.modelship.operator.testing.OperatorHarness.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.modelship.operator.api.CrdConstants;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.ResourcesSpec;
import io.modelship.operator.api.spec.ServerSpec;
import io.modelship.operator.api.status.HistoryEntry;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.testing.ModelDeployments;
import io.modelship.operator.testing.OperatorHarness;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a user reads in status and Events when things are not as they should be, cases a real API server showed:
 * specs the schema accepts but the API server will not apply, pods that cannot be created or scheduled, a rollout
 * that serves while it progresses, how a promotion came about, and what happens to a rolled-back revision.
 */
class StatusReportingScenarioTest {
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

  private void assertInvalid(ModelDeployment mdep, String... message) {
    k8s.create(mdep);
    String name = mdep.getMetadata().getName();
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = k8s.status(name);
      assertThat(status.getPhase()).isEqualTo(Phase.Failed);
      var ready = OperatorHarness.condition(status, Conditions.READY);
      assertThat(ready.getReason()).isEqualTo("InvalidSpec");
      assertThat(ready.getMessage()).contains(message);
      assertThat(warnings(name)).contains("InvalidSpec");
    });
    assertThat(k8s.deployments()).noneMatch(d -> d.getMetadata().getName().startsWith(name + "-"));
  }

  @Test
  void quantitiesTheApiServerCannotParseAreAnInvalidSpec() {
    var mdep = ModelDeployments.s3("lots", "s3://models/lots/1/");
    var resources = new ResourcesSpec();
    resources.setCpu(new Quantity("lots"));
    resources.setMemory(new Quantity("12XB"));
    mdep.getSpec().setResources(resources);

    assertInvalid(mdep, "spec.resources.cpu 'lots' is not a Kubernetes quantity",
        "spec.resources.memory '12XB' is not a Kubernetes quantity");
  }

  @Test
  void envThatOverridesWhatTheOperatorSetsIsAnInvalidSpec() {
    var mdep = ModelDeployments.s3("envy", "s3://models/envy/1/");
    var server = new ServerSpec();
    server.setEnv(List.of(new EnvVar("MODELSHIP_PORT", "9000", null), new EnvVar("MY_FLAG", "1", null),
        new EnvVar("MY_FLAG", "2", null)));
    mdep.getSpec().setServer(server);

    assertInvalid(mdep, "spec.server.env[0] sets MODELSHIP_PORT, which the operator sets itself",
        "spec.server.env names MY_FLAG more than once");
  }

  @Test
  void inPlaceWithGatewayApiOrShadowTrafficIsAnInvalidSpec() {
    var mdep = ModelDeployments.steps(ModelDeployments.s3("both", "s3://models/both/1/"), 0, "1m", 100, null);
    mdep.getSpec().getRollout().getSteps().get(0).setShadow(true);
    mdep.getSpec().getRollout().setStrategy("inPlace");
    var gateway = new io.modelship.operator.api.spec.TrafficSpec.GatewayApiTraffic();
    gateway.setHttpRoute("both");
    var parent = new io.modelship.operator.api.spec.TrafficSpec.ParentRef();
    parent.setName("gw");
    gateway.setParentRefs(List.of(parent));
    var traffic = new io.modelship.operator.api.spec.TrafficSpec();
    traffic.setGatewayAPI(gateway);
    mdep.getSpec().getRollout().setTraffic(traffic);

    assertInvalid(mdep, "spec.rollout.strategy inPlace splits traffic inside each pod, and traffic.gatewayAPI between pods",
        "spec.rollout.strategy inPlace has no shadow traffic yet");
  }

  @Test
  void aRevisionTheApiServerRefusesIsReportedAndNothingIsDeployed() {
    k8s.dispatcher.refuseDryRunsOf("s3://models/refused/1/",
        "admission webhook \\\"policy.example.com\\\" denied the request: images must come from registry.example.com");

    assertInvalid(ModelDeployments.s3("refused", "s3://models/refused/1/"),
        "the API server refuses what this spec asks for (HTTP 422)", "images must come from registry.example.com");
    int writes = k8s.dispatcher.writes().size();
    k8s.awaitReconciliations(3);
    assertThat(k8s.dispatcher.writes().subList(writes, k8s.dispatcher.writes().size()))
        .as("no write storm while the spec stays refused").isEmpty();
  }

  @Test
  void podsThatCannotBeCreatedAreNamedWithTheirCause() {
    k8s.create(ModelDeployments.s3("nopc", "s3://models/nopc/1/"));
    String revision = k8s.awaitOtherRevision("nopc", "");
    failCreation(revision, "pods \"nopc-x\" is forbidden: no PriorityClass with name inference was found");

    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = k8s.status("nopc");
      assertThat(status.getPhase()).isEqualTo(Phase.Failed);
      assertThat(OperatorHarness.condition(status, Conditions.READY).getReason()).isEqualTo("PodsNotCreated");
      assertThat(OperatorHarness.condition(status, Conditions.READY).getMessage())
          .contains("no PriorityClass with name inference");
      var artifact = OperatorHarness.condition(status, Conditions.ARTIFACT_RESOLVED);
      assertThat(artifact.getReason()).isEqualTo("PodsNotCreated");
      assertThat(artifact.getMessage()).doesNotContain("fetching");
      assertThat(warnings("nopc")).contains("PodsNotCreated");
    });
  }

  @Test
  void podsNoNodeFitsAreNamedWithTheSchedulersWords() {
    k8s.create(ModelDeployments.s3("toobig", "s3://models/toobig/1/"));
    String revision = k8s.awaitOtherRevision("toobig", "");
    unschedulablePod(revision, "0/1 nodes are available: 1 Insufficient memory.");

    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = k8s.status("toobig");
      assertThat(OperatorHarness.condition(status, Conditions.READY).getReason()).isEqualTo("Unschedulable");
      assertThat(OperatorHarness.condition(status, Conditions.READY).getMessage()).contains("Insufficient memory");
      assertThat(OperatorHarness.condition(status, Conditions.ARTIFACT_RESOLVED).getReason())
          .isEqualTo("PodsNotScheduled");
    });
  }

  @Test
  void aRolloutInProgressIsReadyWhileTheStableRevisionServes() {
    String stable = stableThenNewSource("serving", m -> {});
    String canary = k8s.awaitOtherRevision("serving", stable);
    k8s.autoReady(canary);

    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = k8s.status("serving");
      assertThat(status.getPhase()).isEqualTo(Phase.Progressing);
      var ready = OperatorHarness.condition(status, Conditions.READY);
      assertThat(ready.getStatus()).isEqualTo("True");
      assertThat(ready.getReason()).isEqualTo("StableServing");
      assertThat(OperatorHarness.condition(status, Conditions.PROGRESSING).getStatus()).isEqualTo("True");
    });
  }

  @Test
  void aPromotionByHandSaysSoInHistory() {
    String stable = stableThenNewSource("byhand", m -> {});
    String canary = k8s.awaitOtherRevision("byhand", stable);
    k8s.autoReady(canary);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.phase("byhand")).isEqualTo(Phase.Progressing));

    annotate("byhand", "modelship.io/promote");

    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.status("byhand").getHistory()).first()
        .satisfies(h -> {
          assertThat(h.getOutcome()).isEqualTo(HistoryEntry.Outcome.Promoted);
          assertThat(h.getReason()).isEqualTo("promoted by the modelship.io/promote annotation");
        }));
  }

  @Test
  void aRollbackKeepsTheCanaryPodsUntilStableIsBackButSendsThemNoTraffic() {
    String stable = stableThenNewSource("floor", m -> {});
    String canary = k8s.awaitOtherRevision("floor", stable);
    k8s.autoReady(canary);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.replicas(stable)).isEqualTo(3));
    // The stable revision no longer grows by itself: the test plays a slow scale-up.
    k8s.stopAutoReady(stable);

    annotate("floor", "modelship.io/abort");

    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.phase("floor")).isEqualTo(Phase.RollingBack);
      assertThat(k8s.replicas(stable)).isEqualTo(4);
      assertThat(k8s.deployment(canary)).as("canary pods stay until stable is back").isPresent();
      assertThat(clientSelector("floor")).containsEntry(CrdConstants.LABEL_REVISION, revision(stable));
    });
    k8s.awaitReconciliations(3);
    assertThat(k8s.deployment(canary)).isPresent();

    k8s.markReady(stable);

    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.phase("floor")).isEqualTo(Phase.Degraded);
      assertThat(k8s.deployment(canary)).isEmpty();
      assertThat(clientSelector("floor")).doesNotContainKey(CrdConstants.LABEL_REVISION);
      var artifact = OperatorHarness.condition(k8s.status("floor"), Conditions.ARTIFACT_RESOLVED);
      assertThat(artifact.getReason()).isEqualTo("TargetRolledBack");
      assertThat(artifact.getMessage()).contains("failed its rollout and is not deployed", "serves")
          .doesNotContain("fetching");
    });
  }

  @Test
  void kubectlColumnsShowAVersionForSourcesWithoutARegistryVersion() {
    k8s.create(ModelDeployments.s3("columns", "s3://models/columns/1/"));
    String revision = k8s.awaitOtherRevision("columns", "");
    k8s.autoReady(revision);

    await().atMost(TIMEOUT).untilAsserted(() ->
        assertThat(k8s.stable("columns").getVersion()).isEqualTo(revision(revision)));
  }

  // ------------------------------------------------------------------------------------------------- helpers

  private String stableThenNewSource(String name, Consumer<ModelDeployment> customize) {
    var mdep = ModelDeployments.steps(ModelDeployments.s3(name, "s3://models/" + name + "/1/"), 25, "30s", 50, "30s", 100, null);
    mdep.getSpec().setReplicas(4);
    customize.accept(mdep);
    k8s.create(mdep);
    String stable = k8s.awaitOtherRevision(name, "");
    k8s.autoReady(stable);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.phase(name)).isEqualTo(Phase.Stable));
    k8s.edit(name, m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/" + name + "/2/"));
    return stable;
  }

  private void failCreation(String deployment, String message) {
    Deployment d = k8s.deployment(deployment).orElseThrow();
    d.setStatus(new io.fabric8.kubernetes.api.model.apps.DeploymentStatus());
    d.getStatus().setConditions(List.of(new DeploymentConditionBuilder().withType("ReplicaFailure")
        .withStatus("True").withReason("FailedCreate").withMessage(message).build()));
    k8s.client.apps().deployments().inNamespace(NAMESPACE).resource(d).updateStatus();
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

  private Map<String, String> clientSelector(String name) {
    return k8s.client.services().inNamespace(NAMESPACE).withName(name).get().getSpec().getSelector();
  }

  private void annotate(String name, String annotation) {
    k8s.edit(name, m -> m.getMetadata().setAnnotations(new java.util.HashMap<>(Map.of(annotation, "true"))));
  }

  private static String revision(String deployment) {
    return deployment.substring(deployment.lastIndexOf('-') + 1);
  }

  private List<String> warnings(String name) {
    return k8s.client.v1().events().inNamespace(NAMESPACE).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName()))
        .filter(e -> "Warning".equals(e.getType())).map(Event::getReason).toList();
  }
}
