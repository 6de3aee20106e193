package io.modelship.operator.source;

import static io.modelship.operator.testing.OperatorHarness.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.revision.PodContract;
import io.modelship.operator.testing.ModelDeployments;
import io.modelship.operator.testing.OperatorHarness;
import io.modelship.server.testing.MlflowServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Registry-driven rollouts against a real {@code mlflow server}: the operator pins an alias to the READY version it
 * names, starts a canary when the alias moves, ignores a version that is not READY, keeps serving while MLflow is
 * down, and tags the version it rolled out with the outcome. The mock apiserver plays the cluster.
 */
class TrackingScenarioTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final Duration INTERVAL = Duration.ofSeconds(10);
  @TempDir static Path home;
  private static MlflowServer mlflow;
  private OperatorHarness k8s;

  @BeforeAll
  static void startMlflow() throws Exception {
    String reason = MlflowServer.unavailableReason().orElse(null);
    if (reason != null) {
      System.out.println("TrackingScenarioTest skipped: " + reason);
    }
    Assumptions.assumeTrue(reason == null, reason);
    mlflow = MlflowServer.start(home);
  }

  @AfterAll
  static void stopMlflow() {
    if (mlflow != null) {
      mlflow.close();
    }
  }

  @BeforeEach
  void start() throws Exception {
    k8s = new OperatorHarness().start();
  }

  @AfterEach
  void stop() throws Exception {
    k8s.close();
    mlflow.restart(); // a test that stopped it leaves it stopped
  }

  @Test
  void aMovedAliasStartsACanaryOfTheExactVersionAndTheOutcomeIsTaggedInMlflow() throws Exception {
    registerVersions("fraud", 2);
    alias("fraud", "champion", 1);
    k8s.create(tracking("fraud"));

    String v1 = k8s.awaitOtherRevision("fraud", "");
    assertThat(fetchEnv(v1)).containsEntry("MODELSHIP_MLFLOW_VERSION", "1").doesNotContainKey("MODELSHIP_MLFLOW_ALIAS");
    k8s.autoReady(v1);
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.phase("fraud")).isEqualTo(Phase.Stable);
      assertThat(k8s.tracking("fraud").getVersion()).isEqualTo("1");
      assertThat(condition("fraud").getStatus()).isEqualTo("True");
    });
    assertThat(k8s.tracking("fraud").getSource()).isEqualTo("models:/fraud@champion");
    assertThat(k8s.reasons("fraud")).contains("SourcePinned");

    alias("fraud", "champion", 2);
    Instant moved = k8s.clock.instant();
    k8s.clock.advance(INTERVAL.plusSeconds(2)); // interval plus the largest jitter (a tenth)
    String v2 = k8s.awaitOtherRevision("fraud", v1);
    assertThat(fetchEnv(v2)).containsEntry("MODELSHIP_MLFLOW_VERSION", "2");
    // The stable revision stays pinned: a pod it adds or restarts now still fetches version 1.
    assertThat(fetchEnv(v1)).containsEntry("MODELSHIP_MLFLOW_VERSION", "1");
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.tracking("fraud").getVersion()).isEqualTo("2");
      assertThat(Instant.parse(k8s.tracking("fraud").getReadAt())).isAfter(moved);
      assertThat(k8s.reasons("fraud")).contains("AliasMoved");
    });
    assertThat(messages("fraud", "AliasMoved")).singleElement().asString()
        .contains("models:/fraud@champion moved from version 1 to version 2");

    k8s.autoReady(v2);
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.phase("fraud")).isEqualTo(Phase.Stable);
      assertThat(k8s.status("fraud").getHistory()).first()
          .satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
    });
    await("tags on version 2").atMost(TIMEOUT).untilAsserted(() -> assertThat(tags("fraud", 2))
        .containsEntry(RegistryWriteBack.OUTCOME, "promoted")
        .containsEntry(RegistryWriteBack.DEPLOYMENT, NAMESPACE + "/fraud")
        .containsKey(RegistryWriteBack.AT));
    assertThat(tags("fraud", 1)).doesNotContainKey(RegistryWriteBack.OUTCOME);
  }

  @Test
  void aRolledBackVersionIsNotTriedAgainUntilTheAliasMovesOn() throws Exception {
    String v1 = stableOnVersion1("flaky", 3);

    alias("flaky", "champion", 2);
    k8s.analysis.answerDecisiveFail();
    k8s.clock.advance(INTERVAL.plusSeconds(2));
    String v2 = k8s.awaitOtherRevision("flaky", v1);
    k8s.autoReady(v2);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.status("flaky").getHistory()).first()
        .satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.RolledBack)));
    await("tags on version 2").atMost(TIMEOUT).untilAsserted(() ->
        assertThat(tags("flaky", 2)).containsEntry(RegistryWriteBack.OUTCOME, "rolled-back"));
    k8s.analysis.answer(io.modelship.operator.api.status.GateResultStatus.Verdict.Pass);

    // The alias still names version 2: reads go on, and nothing is deployed again.
    Instant read = Instant.parse(k8s.tracking("flaky").getReadAt());
    k8s.clock.advance(INTERVAL.plusSeconds(2));
    await().atMost(TIMEOUT).untilAsserted(() ->
        assertThat(Instant.parse(k8s.tracking("flaky").getReadAt())).isAfter(read));
    k8s.awaitReconciliations(3);
    await().atMost(TIMEOUT).untilAsserted(() ->
        assertThat(k8s.deployments()).extracting(d -> d.getMetadata().getName()).containsExactly(v1));
    assertThat(k8s.status("flaky").getStable().getRevision()).isEqualTo(v1.substring(v1.lastIndexOf('-') + 1));

    alias("flaky", "champion", 3);
    k8s.clock.advance(INTERVAL.plusSeconds(2));
    String v3 = k8s.awaitOtherRevision("flaky", v1);
    assertThat(v3).isNotEqualTo(v2);
    assertThat(fetchEnv(v3)).containsEntry("MODELSHIP_MLFLOW_VERSION", "3");
  }

  @Test
  void aVersionThatIsNotReadyIsIgnoredUntilItIs() throws Exception {
    String v1 = stableOnVersion1("pending", 2);

    mlflow.setStatus("pending", 2, "PENDING_REGISTRATION", "copying the artifact");
    alias("pending", "champion", 2);
    k8s.clock.advance(INTERVAL.plusSeconds(2));
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(condition("pending").getReason()).isEqualTo("VersionNotReady");
      assertThat(condition("pending").getMessage()).contains("version 2, which is PENDING_REGISTRATION")
          .contains("version 1 stays pinned");
    });
    assertThat(k8s.tracking("pending").getVersion()).isEqualTo("1");
    assertThat(k8s.deployments()).extracting(d -> d.getMetadata().getName()).containsExactly(v1);
    assertThat(k8s.phase("pending")).isEqualTo(Phase.Stable);

    mlflow.setStatus("pending", 2, "READY", "");
    k8s.clock.advance(INTERVAL.plusSeconds(2));
    String v2 = k8s.awaitOtherRevision("pending", v1);
    assertThat(fetchEnv(v2)).containsEntry("MODELSHIP_MLFLOW_VERSION", "2");
  }

  @Test
  void whileMlflowIsDownTheRunningVersionServesAndTrackingBacksOffThenResumes() throws Exception {
    String v1 = stableOnVersion1("outage", 2);

    mlflow.stop();
    k8s.clock.advance(INTERVAL.plusSeconds(2));
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(condition("outage").getStatus()).isEqualTo("False");
      assertThat(condition("outage").getReason()).isEqualTo("RegistryReadFailed");
      assertThat(condition("outage").getMessage()).contains("cannot reach MLflow").contains("version 1 stays pinned");
    });
    assertThat(k8s.phase("outage")).isEqualTo(Phase.Stable);
    assertThat(k8s.warnings("outage")).containsOnlyOnce("RegistryReadFailed");
    // Backing off: 5 s after the first failure, 10 s after the second.
    Instant firstRetry = Instant.parse(k8s.tracking("outage").getNextReadAt());
    k8s.clock.advance(Duration.ofSeconds(6));
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.tracking("outage").getFailures()).isEqualTo(2));
    assertThat(Duration.between(firstRetry, Instant.parse(k8s.tracking("outage").getNextReadAt())))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(10));
    assertThat(k8s.warnings("outage")).containsOnlyOnce("RegistryReadFailed");
    assertThat(k8s.deployments()).extracting(d -> d.getMetadata().getName()).containsExactly(v1);

    alias("outage", "champion", 2, true);
    k8s.clock.advance(Duration.ofSeconds(11));
    String v2 = k8s.awaitOtherRevision("outage", v1);
    assertThat(fetchEnv(v2)).containsEntry("MODELSHIP_MLFLOW_VERSION", "2");
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(condition("outage").getStatus()).isEqualTo("True");
      assertThat(k8s.tracking("outage").getFailures()).isZero();
      assertThat(k8s.reasons("outage")).contains("RegistryReachable", "AliasMoved");
    });
  }

  @Test
  void anAliasThatWasNeverResolvedDeploysNothingAndSaysWhy() throws Exception {
    registerVersions("nowhere", 1);
    k8s.create(tracking("nowhere")); // no alias "champion" on this model
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var ready = OperatorHarness.condition(k8s.status("nowhere"), "Ready");
      assertThat(ready.getReason()).isEqualTo("SourceUnresolved");
      assertThat(ready.getMessage()).contains("models:/nowhere@champion cannot be resolved")
          .contains("alias champion not found");
    });
    assertThat(k8s.deployments()).isEmpty();
    assertThat(k8s.warnings("nowhere")).contains("SourceUnresolved");

    alias("nowhere", "champion", 1);
    k8s.clock.advance(Duration.ofSeconds(6));
    String v1 = k8s.awaitOtherRevision("nowhere", "");
    assertThat(fetchEnv(v1)).containsEntry("MODELSHIP_MLFLOW_VERSION", "1");
  }

  private static ModelDeployment tracking(String name) {
    return ModelDeployments.steps(ModelDeployments.mlflowAlias(name, mlflow.uri, "champion", INTERVAL.toSeconds() + "s"),
        100, null);
  }

  /**
   * A model with {@code versions} registered versions, the alias on version 1, and a tracking ModelDeployment of
   * the same name serving it: returns version 1's revision Deployment.
   */
  private String stableOnVersion1(String name, int versions) throws Exception {
    registerVersions(name, versions);
    alias(name, "champion", 1);
    k8s.create(tracking(name));
    String v1 = k8s.awaitOtherRevision(name, "");
    k8s.autoReady(v1);
    await().atMost(TIMEOUT).until(() -> k8s.phase(name) == Phase.Stable);
    return v1;
  }

  private static void registerVersions(String model, int count) throws Exception {
    mlflow.post("registered-models/create", Map.of("name", model));
    String experiment = mlflow.post("experiments/create", Map.of("name", model)).path("experiment_id").asText();
    JsonNode run = mlflow.post("runs/create", Map.of("experiment_id", experiment)).path("run").path("info");
    for (int i = 1; i <= count; i++) {
      mlflow.post("model-versions/create", Map.of("name", model, "run_id", run.path("run_id").asText(),
          "source", run.path("artifact_uri").asText() + "/model-" + i));
    }
  }

  private static void alias(String model, String alias, int version) throws Exception {
    alias(model, alias, version, false);
  }

  /** Points the alias at a version; {@code restartFirst} ends an outage a test began with {@link MlflowServer#stop}. */
  private static void alias(String model, String alias, int version, boolean restartFirst) throws Exception {
    if (restartFirst) {
      mlflow.restart();
    }
    mlflow.post("registered-models/alias", Map.of("name", model, "alias", alias, "version", Integer.toString(version)));
  }

  private static Map<String, String> tags(String model, int version) throws Exception {
    HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
        mlflow.uri + "/api/2.0/mlflow/model-versions/get?name=" + model + "&version=" + version)).build(),
        HttpResponse.BodyHandlers.ofString());
    JsonNode json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(answer.body());
    Map<String, String> tags = new HashMap<>();
    json.path("model_version").path("tags").forEach(t -> tags.put(t.path("key").asText(), t.path("value").asText()));
    return tags;
  }

  private Map<String, String> fetchEnv(String deployment) {
    Deployment d = k8s.deployment(deployment).orElseThrow(() -> new AssertionError(deployment + " is gone"));
    Map<String, String> env = new HashMap<>();
    d.getSpec().getTemplate().getSpec().getInitContainers().stream()
        .filter(c -> PodContract.FETCH_CONTAINER.equals(c.getName()))
        .flatMap(c -> c.getEnv().stream())
        .filter(e -> e.getValue() != null)
        .forEach((EnvVar e) -> env.put(e.getName(), e.getValue()));
    return env;
  }

  private io.fabric8.kubernetes.api.model.Condition condition(String name) {
    return Optional.ofNullable(OperatorHarness.condition(k8s.status(name), SourceTracker.CONDITION))
        .orElseThrow(() -> new AssertionError(name + " has no " + SourceTracker.CONDITION + " condition yet"));
  }

  private List<String> messages(String name, String reason) {
    return k8s.events(name).stream().filter(e -> reason.equals(e.getReason())).map(Event::getMessage).toList();
  }
}
