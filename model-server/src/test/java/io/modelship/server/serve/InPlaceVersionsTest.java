package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * In-place versions in one real server: the next version is fetched from a real S3 protocol server with the
 * pod's credentials, loaded and warmed up beside the one that serves, and routed to by weight; promotion and
 * rollback unload a version only once its requests are answered. A version that cannot be fetched, loaded or held
 * is never routed to, and only the operator's token may place versions.
 */
class InPlaceVersionsTest {
  private static final String TOKEN = "admin-token-of-the-operator";
  private static final String ACCESS_KEY = "AKIAMODELSHIPINPLACE";
  private static final String SECRET_KEY = "in-place-secret-that-must-never-be-logged";
  private static final String BUCKET = "models";
  private static final Mlp V1 = new Mlp(4, 16, 1, 3, 71);
  private static final Mlp V2 = new Mlp(4, 16, 1, 3, 72);
  private static final float[] ROW = {5.1f, 3.5f, 1.4f, 0.2f};

  private static BlobStoreContext context;
  private static BlobStore blobStore;
  private static S3Proxy s3;
  private static String endpoint;

  @TempDir Path tmp;

  @BeforeAll
  static void startS3() throws Exception {
    context = ContextBuilder.newBuilder("transient").credentials("identity", "credential")
        .build(BlobStoreContext.class);
    blobStore = context.getBlobStore();
    s3 = S3Proxy.builder().blobStore(blobStore).endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).build();
    s3.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> "STARTED".equals(s3.getState()));
    endpoint = "http://127.0.0.1:" + s3.getPort();
    blobStore.createContainerInLocation(null, BUCKET);
    put("iris/2/model.onnx", OnnxModels.mlp(V2));
    put("iris/broken/model.onnx", "these bytes are not an ONNX model".getBytes());
    put("iris/big/model.onnx", OnnxModels.mlp(new Mlp(4, 512, 2, 3, 73)));
  }

  private static void put(String key, byte[] bytes) {
    blobStore.putBlob(BUCKET, blobStore.blobBuilder(key).payload(bytes).contentLength(bytes.length).build());
  }

  @AfterAll
  static void stopS3() throws Exception {
    if (s3 != null) {
      s3.stop();
    }
    if (context != null) {
      context.close();
    }
  }

  private ServeOptions options() throws IOException {
    Path dir = Files.createDirectories(tmp.resolve("v1"));
    OnnxModels.writeMlp(dir, V1);
    Path token = tmp.resolve("token");
    Files.writeString(token, TOKEN + "\n");
    Path credentials = Files.createDirectories(tmp.resolve("credentials"));
    Files.writeString(credentials.resolve("AWS_ACCESS_KEY_ID"), ACCESS_KEY);
    Files.writeString(credentials.resolve("AWS_SECRET_ACCESS_KEY"), SECRET_KEY);
    return TestServeOptions.defaults(dir, 0).withModel("iris", "v1").withAdminTokenFile(token)
        .withCredentialsDir(credentials).withVersionsDir(tmp.resolve("versions"));
  }

  private static String s3Version(String version, String key) {
    return "{\"version\":\"" + version + "\",\"source\":\"s3://" + BUCKET + "/" + key + "\",\"s3Endpoint\":\""
        + endpoint + "\"}";
  }

  private static String placement(String primary, String candidate, int weight) {
    return "{\"primary\":" + primary + (candidate == null ? "" : ",\"candidate\":" + candidate) + ",\"weight\":"
        + weight + "}";
  }

  private static HttpResponse<String> put(RunningServer server, String body, String... token) {
    return admin(server, "PUT", body, token.length == 0 ? TOKEN : token[0]);
  }

  private static HttpResponse<String> admin(RunningServer server, String method, String body, String token) {
    var request = java.net.http.HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.server.port() + "/admin/versions"))
        .method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
            : java.net.http.HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    try {
      return java.net.http.HttpClient.newHttpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonNode versions(RunningServer server) {
    HttpResponse<String> answer = admin(server, "GET", null, TOKEN);
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    return RunningServer.json(answer);
  }

  /** The state of {@code version} as GET /admin/versions shows it, or "ABSENT"; never throws but AssertionError. */
  private static String state(RunningServer server, String version) {
    for (JsonNode v : versions(server).path("versions")) {
      if (v.path("version").asText().equals(version)) {
        return v.path("state").asText();
      }
    }
    return "ABSENT";
  }

  private static JsonNode versionEntry(RunningServer server, String version) {
    for (JsonNode v : versions(server).path("versions")) {
      if (v.path("version").asText().equals(version)) {
        return v;
      }
    }
    throw new AssertionError("version " + version + " is not listed: " + versions(server));
  }

  private static String body() {
    return V2Bodies.fp32(Mlp.INPUT, new float[][] {ROW}).toString();
  }

  /** One answer: the version that gave it, and its outputs. */
  private record Answer(int status, String version, float[] outputs) {}

  private static Answer answer(HttpResponse<String> response) {
    if (response.statusCode() != 200) {
      return new Answer(response.statusCode(), null, null);
    }
    JsonNode json = RunningServer.json(response);
    return new Answer(200, json.path("model_version").asText(), V2Bodies.output(json, Mlp.OUTPUT)[0]);
  }

  private static Answer infer(RunningServer server, String path) {
    return answer(server.post(path, body()));
  }

  @Test
  void aCandidateBesideThePrimaryAnswersWithItsOwnOutputsAndTakesItsWeightsShare() throws Exception {
    try (RunningServer server = RunningServer.startReady(options())) {
      Answer v1 = infer(server, "/v2/models/iris/infer");
      assertThat(v1.version()).isEqualTo("v1");

      HttpResponse<String> placed = put(server, placement("{\"version\":\"v1\"}", s3Version("v2", "iris/2/model.onnx"), 10));
      assertThat(placed.statusCode()).as(placed.body()).isEqualTo(200);
      await("v2 loads beside v1").atMost(Duration.ofSeconds(60))
          .untilAsserted(() -> assertThat(state(server, "v2")).isEqualTo("READY"));
      assertThat(server.get("/v2/health/ready").statusCode()).isEqualTo(200);
      JsonNode shown = versions(server);
      assertThat(shown.path("primary").asText()).isEqualTo("v1");
      assertThat(shown.path("candidate").asText()).isEqualTo("v2");
      assertThat(shown.path("weight").asInt()).isEqualTo(10);
      assertThat(versionEntry(server, "v2").path("sha256").asText()).hasSize(64);

      // Versioned paths reach exactly the version they name, each with its own model's outputs.
      Answer v2 = infer(server, "/v2/models/iris/versions/v2/infer");
      assertThat(v2.version()).isEqualTo("v2");
      assertThat(v2.outputs()).isNotEqualTo(v1.outputs());
      assertThat(infer(server, "/v2/models/iris/versions/v1/infer").outputs()).containsExactly(v1.outputs());

      // Unversioned requests are split per request: 10 %, then 50 %, within five standard deviations.
      Map<String, float[]> expected = Map.of("v1", v1.outputs(), "v2", v2.outputs());
      int n = 1000;
      assertThat(countV2(server, n, expected)).isBetween(52, 148);
      assertThat(put(server, placement("{\"version\":\"v1\"}", s3Version("v2", "iris/2/model.onnx"), 50)).statusCode())
          .isEqualTo(200);
      assertThat(countV2(server, n, expected)).isBetween(421, 579);
      assertThat(server.metric("modelship_inference_requests_total", "version=\"v2\"", "outcome=\"success\"")
          .orElse(0.0)).isGreaterThan(500);

      // Rollback: the candidate leaves, v1 takes everything again.
      assertThat(put(server, placement("{\"version\":\"v1\"}", null, 0)).statusCode()).isEqualTo(200);
      await("v2 is unloaded").atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(state(server, "v2")).isEqualTo("ABSENT"));
      assertThat(countV2(server, 100, expected)).isZero();
      assertThat(server.post("/v2/models/iris/versions/v2/infer", body()).statusCode()).isEqualTo(404);
      assertThat(Files.exists(tmp.resolve("versions").resolve("v2"))).as("v2's files are deleted").isFalse();
    }
  }

  /** Sends {@code n} unversioned requests, 8 at a time; each must be answered by v1 or v2 with that one's outputs. */
  private static int countV2(RunningServer server, int n, Map<String, float[]> expected) {
    List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      sent.add(server.postAsync("/v2/models/iris/infer", body()));
      if (sent.size() >= 8) {
        sent.get(sent.size() - 8).join();
      }
    }
    int v2 = 0;
    for (var future : sent) {
      Answer a = answer(future.join());
      assertThat(a.status()).isEqualTo(200);
      assertThat(expected).containsKey(a.version());
      assertThat(a.outputs()).as("answered by %s", a.version()).containsExactly(expected.get(a.version()));
      v2 += a.version().equals("v2") ? 1 : 0;
    }
    System.out.printf("InPlaceVersionsTest: %d of %d unversioned requests went to v2%n", v2, n);
    return v2;
  }

  @Test
  void promotionUnderConcurrentLoadLosesNoRequestAndUnloadsTheOldVersion() throws Exception {
    try (RunningServer server = RunningServer.startReady(options())) {
      float[] v1 = infer(server, "/v2/models/iris/infer").outputs();
      assertThat(put(server, placement("{\"version\":\"v1\"}", s3Version("v2", "iris/2/model.onnx"), 50)).statusCode())
          .isEqualTo(200);
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(state(server, "v2")).isEqualTo("READY"));
      float[] v2 = infer(server, "/v2/models/iris/versions/v2/infer").outputs();
      Map<String, float[]> expected = Map.of("v1", v1, "v2", v2);

      AtomicBoolean stop = new AtomicBoolean();
      Map<String, AtomicInteger> byVersion = new ConcurrentHashMap<>();
      List<String> wrong = java.util.Collections.synchronizedList(new ArrayList<>());
      List<Thread> clients = new ArrayList<>();
      for (int c = 0; c < 16; c++) {
        RunningServer client = server.fresh();
        Thread t = new Thread(() -> {
          while (!stop.get()) {
            Answer a;
            try {
              a = answer(client.post("/v2/models/iris/infer", body()));
            } catch (RuntimeException e) {
              wrong.add("no answer: " + e);
              continue;
            }
            if (a.status() != 200 || !expected.containsKey(a.version())
                || !Arrays.equals(a.outputs(), expected.get(a.version()))) {
              wrong.add(a.status() + " " + a.version());
            } else {
              byVersion.computeIfAbsent(a.version(), k -> new AtomicInteger()).incrementAndGet();
            }
          }
        });
        clients.add(t);
        t.start();
      }
      try {
        await().atMost(Duration.ofSeconds(30)).until(() -> byVersion.values().stream().mapToInt(AtomicInteger::get).sum() > 500);
        assertThat(put(server, placement(s3Version("v2", "iris/2/model.onnx"), null, 0)).statusCode()).isEqualTo(200);
        await("v1 is unloaded").atMost(Duration.ofSeconds(30))
            .untilAsserted(() -> assertThat(state(server, "v1")).isEqualTo("ABSENT"));
        int atUnload = byVersion.get("v2").get();
        await("traffic goes on").atMost(Duration.ofSeconds(30)).until(() -> byVersion.get("v2").get() > atUnload + 500);
      } finally {
        stop.set(true);
        for (Thread t : clients) {
          t.join(30_000);
        }
      }
      System.out.printf("InPlaceVersionsTest: answers across a promotion under load: %s, wrong %d%n", byVersion,
          wrong.size());
      assertThat(wrong).as("requests not answered 200 by exactly one version with its outputs").isEmpty();
      assertThat(byVersion.get("v1").get()).isPositive();
      assertThat(versions(server).path("primary").asText()).isEqualTo("v2");
      assertThat(infer(server, "/v2/models/iris/infer").version()).isEqualTo("v2");
      assertThat(server.post("/v2/models/iris/versions/v1/infer", body()).statusCode()).isEqualTo(404);
      assertThat(server.metrics()).as("an unloaded version leaves no series behind").doesNotContain("version=\"v1\"")
          .contains("version=\"v2\"");
      assertThat(server.get("/v2/health/ready").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aVersionThatCannotBeFetchedLoadedOrHeldIsNeverRoutedTo() throws Exception {
    Path v1File = tmp.resolve("v1").resolve("model.onnx");
    long v1Bytes;
    try (RunningServer probe = RunningServer.startReady(options())) {
      v1Bytes = Files.size(v1File);
    }
    long bigBytes = OnnxModels.mlp(new Mlp(4, 512, 2, 3, 73)).length;
    // Room for v1 and v2 (both small), not for the big one beside v1.
    long budget = 2 * v1Bytes + 2 * bigBytes - 1;
    try (RunningServer server = RunningServer.startReady(options().withMemoryBudget(budget))) {
      put(server, placement("{\"version\":\"v1\"}", s3Version("broken", "iris/broken/model.onnx"), 50));
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(state(server, "broken")).isEqualTo("FAILED"));
      assertThat(versionEntry(server, "broken").path("reason").asText()).isEqualTo("LoadFailed");

      put(server, placement("{\"version\":\"v1\"}", s3Version("big", "iris/big/model.onnx"), 50));
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(state(server, "big")).isEqualTo("FAILED"));
      JsonNode big = versionEntry(server, "big");
      assertThat(big.path("reason").asText()).isEqualTo("DoesNotFit");
      assertThat(big.path("message").asText()).contains("--memory-budget-mib", "twice its");

      String wrongDigest = "{\"version\":\"v2\",\"source\":\"s3://" + BUCKET + "/iris/2/model.onnx\",\"s3Endpoint\":\""
          + endpoint + "\",\"sha256\":\"" + "0".repeat(64) + "\"}";
      put(server, placement("{\"version\":\"v1\"}", wrongDigest, 50));
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(state(server, "v2")).isEqualTo("FAILED"));
      JsonNode v2 = versionEntry(server, "v2");
      assertThat(v2.path("reason").asText()).isEqualTo("FetchFailed");
      assertThat(v2.path("message").asText()).contains("digest mismatch").doesNotContain(SECRET_KEY);

      String missing = s3Version("v3", "iris/3/model.onnx");
      put(server, placement("{\"version\":\"v1\"}", missing, 50));
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(state(server, "v3")).isEqualTo("FAILED"));
      assertThat(versionEntry(server, "v3").path("message").asText()).doesNotContain(SECRET_KEY, ACCESS_KEY);

      // The same failed version stays failed while it is placed: no retry loop.
      assertThat(put(server, placement("{\"version\":\"v1\"}", missing, 50)).statusCode()).isEqualTo(200);
      assertThat(state(server, "v3")).isEqualTo("FAILED");

      // None of them took a request; v1 answered all, and the server stayed ready.
      for (int i = 0; i < 50; i++) {
        assertThat(infer(server, "/v2/models/iris/infer").version()).isEqualTo("v1");
      }
      assertThat(server.get("/v2/health/ready").statusCode()).isEqualTo(200);
      assertThat(versions(server).path("candidate").isNull()).isTrue();

      // Named anew after being left out, a version is tried again: the right digest now loads.
      put(server, placement("{\"version\":\"v1\"}", null, 0));
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(state(server, "v2")).isEqualTo("ABSENT"));
      put(server, placement("{\"version\":\"v1\"}", s3Version("v2", "iris/2/model.onnx"), 50));
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(state(server, "v2")).isEqualTo("READY"));
    }
  }

  @Test
  void aServerStartedWithAPlacementIsReadyOnlyOnceItsPrimaryServes() throws Exception {
    Path file = tmp.resolve("placement.json");
    Files.writeString(file, placement(s3Version("v2", "iris/2/model.onnx"), null, 0));
    try (RunningServer server = RunningServer.startReady(options().withPlacementFile(file))) {
      await().atMost(Duration.ofSeconds(60)).until(() -> server.get("/v2/health/ready").statusCode() == 200);
      // From the first ready answer on, every unversioned request goes to the placed primary.
      for (int i = 0; i < 20; i++) {
        assertThat(infer(server, "/v2/models/iris/infer").version()).isEqualTo("v2");
      }
      await("the version from the model directory is unloaded").atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(state(server, "v1")).isEqualTo("ABSENT"));
    }
  }

  @Test
  void onlyTheOperatorsTokenPlacesVersionsAndABadPlacementIsRefused() throws Exception {
    try (RunningServer server = RunningServer.startReady(options())) {
      String good = placement("{\"version\":\"v1\"}", s3Version("v2", "iris/2/model.onnx"), 10);
      assertThat(admin(server, "PUT", good, null).statusCode()).isEqualTo(401);
      assertThat(admin(server, "PUT", good, "not-the-token").statusCode()).isEqualTo(401);
      assertThat(admin(server, "GET", null, null).statusCode()).isEqualTo(401);
      assertThat(admin(server, "DELETE", null, TOKEN).statusCode()).isEqualTo(405);
      for (String bad : List.of("not json", "[]", "{}", "{\"primary\":{\"version\":\"../etc\"}}",
          "{\"primary\":{\"version\":\"v1\"},\"weight\":10}",
          placement("{\"version\":\"v1\"}", "{\"version\":\"v1\"}", 10),
          placement("{\"version\":\"v1\"}", s3Version("v2", "iris/2/model.onnx"), 101),
          placement("{\"version\":\"v1\"}", s3Version("v2", "iris/2/model.onnx"), -1),
          "{\"primary\":{\"version\":\"v1\"},\"candidate\":{\"version\":\"v2\",\"source\":\"mlflow://iris\"}}",
          "{\"primary\":{\"version\":\"v1\",\"sha256\":\"abc\"}}")) {
        HttpResponse<String> refused = admin(server, "PUT", bad, TOKEN);
        assertThat(refused.statusCode()).as(bad).isEqualTo(400);
        assertThat(RunningServer.json(refused).path("error").asText()).as(bad).isNotBlank();
      }
      // Nothing was placed: no fetch began, v1 alone serves.
      assertThat(versions(server).path("versions")).hasSize(1);
      assertThat(state(server, "v2")).isEqualTo("ABSENT");
    }
    ServeOptions withoutToken = TestServeOptions.defaults(tmp.resolve("v1"), 0).withModel("iris", "v1");
    try (RunningServer server = RunningServer.startReady(withoutToken)) {
      assertThat(admin(server, "GET", null, TOKEN).statusCode()).isEqualTo(404);
    }
  }
}
