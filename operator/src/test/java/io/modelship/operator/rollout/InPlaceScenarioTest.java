package io.modelship.operator.rollout;

import static io.modelship.operator.testing.OperatorHarness.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.resources.AdminToken;
import io.modelship.operator.resources.PlacementConfigMap;
import io.modelship.operator.testing.ModelDeployments;
import io.modelship.operator.testing.OperatorHarness;
import io.modelship.operator.testing.S3Server;
import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import io.modelship.server.serve.ModelServer;
import io.modelship.server.serve.ServeHooks;
import io.modelship.server.serve.ServeOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In-place rollouts against the mock apiserver, with two real model servers playing the stable revision's pods
 * (on 127.0.0.1 and 127.0.0.2, one port) and a real S3 protocol server holding the versions. The test plays the
 * kubelet and the gate verdicts; the operator orders the servers over /admin/versions, and the servers fetch, load,
 * split and unload for real. No pod and no Deployment is ever added or replaced.
 */
class InPlaceScenarioTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final String ACCESS_KEY = "in-place-access";
  private static final String SECRET_KEY = "in-place-secret-never-logged";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String BODY = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\","
      + "\"data\":[5.1,3.5,1.4,0.2]}]}";

  @TempDir Path tmp;
  private S3Server s3;
  private String endpoint;
  private OperatorHarness k8s;
  private final List<ModelServer> servers = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private int port;
  private String token;

  @BeforeEach
  void start() throws Exception {
    s3 = new S3Server(ACCESS_KEY, SECRET_KEY);
    endpoint = s3.endpoint;
    put("iris/2/model.onnx", OnnxModels.mlp(new Mlp(4, 16, 1, 3, 82)));
    put("iris/3/model.onnx", "not an ONNX model".getBytes(StandardCharsets.UTF_8));
    put("iris/4/model.onnx", OnnxModels.mlp(new Mlp(4, 16, 1, 3, 84)));
    k8s = new OperatorHarness();
    s3.credentialsSecret(k8s.client, NAMESPACE, "s3-creds");
  }

  @AfterEach
  void stop() throws Exception {
    servers.forEach(ModelServer::shutdown);
    if (k8s != null) {
      k8s.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  private void put(String key, byte[] bytes) {
    s3.put(key, bytes);
  }

  private ModelDeployment inPlace(String uri) {
    var mdep = ModelDeployments.steps(ModelDeployments.s3("iris", uri), 50, "30s", 100, null);
    var s3 = mdep.getSpec().getModel().getSource().getS3();
    s3.setEndpoint(endpoint);
    s3.setCredentialsSecret("s3-creds");
    mdep.getSpec().setReplicas(2);
    mdep.getSpec().getRollout().setStrategy("inPlace");
    return mdep;
  }

  /** A model server that plays one pod of the stable revision: v1 loaded from its model directory at start. */
  private java.util.function.UnaryOperator<ServeOptions> serverTuning = options -> options;

  private ModelServer server(String address, int onPort, String version) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("pod-" + address + "-" + servers.size()));
    OnnxModels.writeMlp(dir, new Mlp(4, 16, 1, 3, 81));
    Path tokenFile = tmp.resolve("token");
    Files.writeString(tokenFile, token);
    Path credentials = Files.createDirectories(tmp.resolve("credentials"));
    Files.writeString(credentials.resolve("AWS_ACCESS_KEY_ID"), ACCESS_KEY);
    Files.writeString(credentials.resolve("AWS_SECRET_ACCESS_KEY"), SECRET_KEY);
    ModelServer server = ModelServer.start(serverTuning.apply(ServeOptions.defaults(dir, onPort).withWarmupHttpRequests(10)
        .withModel("iris", version).withAdminTokenFile(tokenFile).withCredentialsDir(credentials)
        .withVersionsDir(tmp.resolve("versions-" + address + "-" + servers.size()))
        .withDrainDelay(Duration.ZERO).withListen(address, onPort)), ServeHooks.NONE);
    servers.add(server);
    await().atMost(TIMEOUT).until(() -> server.whenReady().isDone());
    return server;
  }

  private void pod(Deployment d, String name, String ip) {
    Pod pod = new PodBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE)
        .withLabels(d.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
        .withNewStatus().withPhase("Running").withPodIP(ip)
        .addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build();
    k8s.client.resource(pod).create();
  }

  /** What the server at {@code address} holds, as GET /admin/versions shows it; never throws but AssertionError. */
  private JsonNode versions(String address) {
    try {
      HttpResponse<String> answer = http.send(HttpRequest.newBuilder(
              URI.create("http://" + address + ":" + port + "/admin/versions"))
          .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      return JSON.readTree(answer.body());
    } catch (IOException e) {
      throw new AssertionError("no answer from " + address + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static List<String> held(JsonNode versions) {
    List<String> held = new ArrayList<>();
    versions.path("versions").forEach(v -> held.add(v.path("version").asText() + ":" + v.path("state").asText()));
    return held;
  }

  private ModelDeploymentStatus status() {
    ModelDeploymentStatus status = k8s.status("iris");
    if (status == null) {
      throw new AssertionError("no status yet");
    }
    return status;
  }

  private String adminToken() {
    var secret = k8s.client.secrets().inNamespace(NAMESPACE).withName(AdminToken.secretName(k8s.get("iris"))).get();
    if (secret == null) {
      throw new AssertionError("no admin token Secret yet");
    }
    return secret.getData() != null && secret.getData().get(AdminToken.KEY) != null
        ? new String(Base64.getDecoder().decode(secret.getData().get(AdminToken.KEY)), StandardCharsets.UTF_8)
        : secret.getStringData().get(AdminToken.KEY);
  }

  /**
   * One client sending infer requests one after another to the first pod's address until stopped, counting answers
   * by the model version that gave them, and keeping every failure.
   */
  private final class Client {
    final Map<String, AtomicInteger> answeredBy = new ConcurrentHashMap<>();
    final List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final Thread thread = new Thread(this::send, "client");

    Client() {
      thread.start();
    }

    private void send() {
      while (!stopped.get()) {
        try {
          HttpResponse<String> answer = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + port + "/v2/models/iris/infer"))
              .POST(HttpRequest.BodyPublishers.ofString(BODY)).build(), HttpResponse.BodyHandlers.ofString());
          if (answer.statusCode() != 200) {
            failures.add(answer.statusCode() + " " + answer.body());
          } else {
            answeredBy.computeIfAbsent(JSON.readTree(answer.body()).path("model_version").asText(),
                k -> new AtomicInteger()).incrementAndGet();
          }
        } catch (IOException e) {
          failures.add(e.toString());
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    void stop() throws InterruptedException {
      stopped.set(true);
      thread.join(10_000);
    }
  }


  /**
   * A ModelDeployment of 2 replicas with strategy inPlace, stable on v1, its two pods played by real servers:
   * returns the stable revision.
   */
  private String stableOnV1(java.util.function.Consumer<ModelDeployment> customize) throws Exception {
    // Both pods' servers listen on one port, on two loopback addresses, and the operator reaches pods on it.
    try (var probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      port = probe.getLocalPort();
    }
    k8s.start(config -> config.withModelServerPort(port));
    ModelDeployment mdep = inPlace("s3://models/iris/1/model.onnx");
    customize.accept(mdep);
    k8s.create(mdep);
    String host = k8s.awaitOtherRevision("iris", "");
    String hostRevision = host.substring("iris-".length());
    k8s.autoReady(host);
    await().atMost(TIMEOUT).until(() -> {
      try {
        token = adminToken();
        return true;
      } catch (AssertionError e) {
        return false;
      }
    });
    server("127.0.0.1", port, hostRevision);
    server("127.0.0.2", port, hostRevision);
    Deployment deployment = k8s.deployment(host).orElseThrow();
    pod(deployment, host + "-a", "127.0.0.1");
    pod(deployment, host + "-b", "127.0.0.2");
    await().atMost(TIMEOUT).until(() -> k8s.phase("iris") == Phase.Stable);
    return hostRevision;
  }

  @Test
  void versionsRollOutInsideTheRunningPodsAndFailuresRollBackThere() throws Exception {
    String hostRevision = stableOnV1(m -> {});
    String host = "iris-" + hostRevision;

    // v2: loaded beside v1 in both pods, 50 % of each pod's requests, then 100 %, then promoted.
    k8s.edit("iris", m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/iris/2/model.onnx"));
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var canary = status().getCanary();
      assertThat(canary).isNotNull();
      assertThat(canary.getHost()).isEqualTo(hostRevision);
      assertThat(canary.getStepReachedAt()).isNotNull();
      assertThat(canary.getWeight()).isEqualTo(50);
      assertThat(canary.getReadyReplicas()).isEqualTo(2);
    });
    String v2 = status().getCanary().getRevision();
    for (String address : List.of("127.0.0.1", "127.0.0.2")) {
      JsonNode shown = versions(address);
      assertThat(shown.path("primary").asText()).isEqualTo(hostRevision);
      assertThat(shown.path("candidate").asText()).isEqualTo(v2);
      assertThat(shown.path("weight").asInt()).isEqualTo(50);
    }
    assertThat(k8s.client.configMaps().inNamespace(NAMESPACE).withName("iris-placement").get().getData()
        .get(PlacementConfigMap.KEY)).contains("\"candidate\":{\"version\":\"" + v2 + "\"", "s3://models/iris/2/model.onnx")
        .doesNotContain(SECRET_KEY, ACCESS_KEY);

    // A pod's model server restarts mid-rollout (v1 only, as its init container left it): it is told again.
    servers.remove(1).shutdown();
    ModelServer restarted = server("127.0.0.2", port, hostRevision);
    await("the restarted pod converges").atMost(TIMEOUT).untilAsserted(() ->
        assertThat(versions("127.0.0.2").path("candidate").asText()).isEqualTo(v2));
    // And the operator itself restarts: it picks the rollout up from status.
    k8s.restart();

    // Clients see no failure while versions come and go.
    Client client = new Client();
    Map<String, AtomicInteger> answeredBy = client.answeredBy;
    List<String> failures = client.failures;
    try {
      k8s.passStep("iris");
      // The 100 % step has no pause: once both pods take it the rollout is promoted, often before a poll could see
      // the step itself, so only the outcome is awaited.
      await().atMost(TIMEOUT).untilAsserted(() -> {
        var status = status();
        assertThat(status.getPhase()).isEqualTo(Phase.Stable);
        assertThat(k8s.stable("iris").getRevision()).isEqualTo(v2);
        assertThat(k8s.stable("iris").getHost()).isEqualTo(hostRevision);
        // One rollout, promoted: neither restart (a pod's server, the operator) interrupted or restarted it.
        assertThat(status.getHistory()).extracting(h -> h.getOutcome()).containsExactly(Outcome.Promoted);
      });
      await("v1 is unloaded in every pod").atMost(TIMEOUT).untilAsserted(() -> {
        assertThat(held(versions("127.0.0.1"))).containsExactly(v2 + ":READY");
        assertThat(held(versions("127.0.0.2"))).containsExactly(v2 + ":READY");
      });
    } finally {
      client.stop();
    }
    assertThat(failures).as("client-visible failures").isEmpty();
    assertThat(answeredBy).containsKeys(hostRevision, v2);
    assertThat(k8s.deployments()).as("no Deployment added or replaced").extracting(d -> d.getMetadata().getName())
        .containsExactly(host);

    // v3 cannot be loaded: the pods say so, the rollout goes back at once, v2 keeps serving.
    k8s.edit("iris", m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/iris/3/model.onnx"));
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = status();
      assertThat(status.getPhase()).isEqualTo(Phase.Degraded);
      assertThat(status.getHistory()).first().satisfies(h -> {
        assertThat(h.getOutcome()).isEqualTo(Outcome.RolledBack);
        assertThat(h.getReason()).startsWith("LoadFailed");
      });
    });
    await("the failed version leaves every pod").atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(held(versions("127.0.0.1"))).containsExactly(v2 + ":READY");
      assertThat(held(versions("127.0.0.2"))).containsExactly(v2 + ":READY");
    });
    assertThat(k8s.warnings("iris")).contains("RollingBack");

    // v4 loads but its gates fail: rolled back, and unloaded.
    k8s.analysis.answerDecisiveFail();
    k8s.edit("iris", m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/iris/4/model.onnx"));
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = status();
      assertThat(status.getHistory()).first().satisfies(h -> {
        assertThat(h.getOutcome()).isEqualTo(Outcome.RolledBack);
        assertThat(h.getReason()).startsWith("GateFailed");
      });
      assertThat(k8s.stable("iris").getRevision()).isEqualTo(v2);
    });
    await("the failed version leaves every pod").atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(held(versions("127.0.0.1"))).containsExactly(v2 + ":READY");
      assertThat(held(versions("127.0.0.2"))).containsExactly(v2 + ":READY");
    });
    assertThat(k8s.deployments()).extracting(d -> d.getMetadata().getName()).containsExactly(host);
    assertThat(restarted.ready()).isTrue();
  }

  @Test
  void anArtifactSwappedInS3DuringTheRolloutIsNeverLoadedAndTheServingVersionAnswersOn() throws Exception {
    // The spec names v7 by its digest; by the time the pods fetch it, the object holds other bytes: a valid model,
    // the worst case (it would load and answer, wrongly). The digest must keep it out of every pod.
    byte[] v7 = OnnxModels.mlp(new Mlp(4, 16, 1, 3, 87));
    String digest = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(v7));
    put("iris/7/model.onnx", OnnxModels.mlp(new Mlp(4, 16, 1, 3, 88)));
    String hostRevision = stableOnV1(m -> {});

    Client client = new Client();
    Map<String, AtomicInteger> answeredBy = client.answeredBy;
    List<String> failures = client.failures;
    try {
      k8s.edit("iris", m -> {
        m.getSpec().getModel().getSource().getS3().setUri("s3://models/iris/7/model.onnx");
        m.getSpec().getModel().setSha256(digest);
      });
      await().atMost(TIMEOUT).untilAsserted(() -> {
        var status = status();
        assertThat(status.getPhase()).isEqualTo(Phase.Degraded);
        assertThat(status.getHistory()).first().satisfies(h -> {
          assertThat(h.getOutcome()).isEqualTo(Outcome.RolledBack);
          assertThat(h.getReason()).startsWith("FetchFailed").contains("digest mismatch", "expected sha256 " + digest);
        });
        assertThat(k8s.stable("iris").getRevision()).isEqualTo(hostRevision);
      });
      await("the refused version is in no pod").atMost(TIMEOUT).untilAsserted(() -> {
        assertThat(held(versions("127.0.0.1"))).containsExactly(hostRevision + ":READY");
        assertThat(held(versions("127.0.0.2"))).containsExactly(hostRevision + ":READY");
      });
      int before = answeredBy.getOrDefault(hostRevision, new AtomicInteger()).get();
      await("v1 answers on").atMost(TIMEOUT).untilAsserted(() ->
          assertThat(answeredBy.get(hostRevision).get()).isGreaterThan(before + 10));
    } finally {
      client.stop();
    }
    assertThat(failures).as("client-visible failures").isEmpty();
    assertThat(answeredBy).as("who answered").containsOnlyKeys(hostRevision);
    assertThat(k8s.warnings("iris")).contains("RollingBack");
  }

  @Test
  void aVersionThatDoesNotFitBesideTheServingOneRollsOutWithPodsWhenTheSpecAllows() throws Exception {
    // Room for v1 and the small v2 beside it, not for the big v5.
    long v1 = OnnxModels.mlp(new Mlp(4, 16, 1, 3, 81)).length;
    long big = OnnxModels.mlp(new Mlp(4, 512, 2, 3, 85)).length;
    put("iris/5/model.onnx", OnnxModels.mlp(new Mlp(4, 512, 2, 3, 85)));
    put("iris/6/model.onnx", OnnxModels.mlp(new Mlp(4, 512, 2, 3, 86)));
    serverTuning = options -> options.withMemoryBudget(2 * v1 + big);
    String hostRevision = stableOnV1(m -> {
      var inPlace = new io.modelship.operator.api.spec.RolloutSpec.InPlaceSpec();
      inPlace.setFallbackToPods(true);
      m.getSpec().getRollout().setInPlace(inPlace);
    });
    k8s.edit("iris", m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/iris/5/model.onnx"));
    String canary = k8s.awaitOtherRevision("iris", "iris-" + hostRevision);
    await().atMost(TIMEOUT).untilAsserted(() -> {
      var status = status();
      assertThat(status.getPhase()).isEqualTo(Phase.Progressing);
      assertThat(k8s.canary("iris").getRevision()).isEqualTo(canary.substring("iris-".length()));
      assertThat(k8s.canary("iris").getHost()).as("a canary with pods of its own").isNull();
    });
    assertThat(k8s.warnings("iris")).contains("InPlaceDoesNotFit");
    assertThat(k8s.dispatcher.writes()).as("the canary's Deployment is made once, never deleted and made again")
        .noneMatch(w -> w.startsWith("DELETE ") && w.contains("/deployments/" + canary));
    assertThat(k8s.events("iris")).anySatisfy(e -> assertThat(e.getMessage())
        .contains("does not fit in place", "--memory-budget-mib"));
    await("the pods let go of the version that did not fit").atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(held(versions("127.0.0.1"))).containsExactly(hostRevision + ":READY");
      assertThat(held(versions("127.0.0.2"))).containsExactly(hostRevision + ":READY");
    });

    // Without fallbackToPods, the same version is rolled back instead.
    k8s.edit("iris", m -> {
      m.getSpec().getRollout().setInPlace(null);
      m.getSpec().getModel().getSource().getS3().setUri("s3://models/iris/1/model.onnx");
    });
    await().atMost(TIMEOUT).until(() -> k8s.phase("iris") == Phase.Stable && status().getCanary() == null);
    // (v5 itself is the failed revision now, not tried again: a version of the same size)
    k8s.edit("iris", m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/iris/6/model.onnx"));
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(status().getHistory()).first()
        .satisfies(h -> assertThat(h.getReason()).startsWith("DoesNotFit")));
    assertThat(k8s.deployments()).extracting(d -> d.getMetadata().getName()).containsExactly("iris-" + hostRevision);
  }
}
