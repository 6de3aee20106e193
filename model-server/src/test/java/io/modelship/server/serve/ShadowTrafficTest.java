package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shadow traffic between two real model servers: the stable one answers its callers and mirrors their requests to
 * the other, then compares the answers. Agreeing models agree; models that differ are measured as different; a
 * mirror target that is dead or hangs never reaches the caller. Only the operator, with its token, may turn it on.
 */
class ShadowTrafficTest {
  private static final String TOKEN = "admin-token-of-the-operator";
  private static final Mlp STABLE = new Mlp(4, 16, 1, 3, 61);
  @TempDir Path tmp;

  private RunningServer server(String name, Mlp mlp, boolean admin) throws IOException {
    Path dir = Files.createDirectories(tmp.resolve(name));
    OnnxModels.writeMlp(dir, mlp);
    ServeOptions options = TestServeOptions.defaults(dir, 0).withDefaultModelVersion(name);
    if (admin) {
      Path token = tmp.resolve(name + "-token");
      Files.writeString(token, TOKEN + "\n");
      options = options.withAdminTokenFile(token);
    }
    return RunningServer.startReady(options);
  }

  private static String shadowTo(String target, String version, double share) {
    return shadowTo(target, version, share, 100_000);
  }

  private static String shadowTo(String target, String version, double share, int maxPerSecond) {
    return "{\"target\":\"" + target + "\",\"version\":\"" + version + "\",\"share\":" + share
        + ",\"timeoutMs\":500,\"maxPerSecond\":" + maxPerSecond + "}";
  }

  private static HttpResponse<String> admin(RunningServer server, String method, String body, String token) {
    var request = java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + server.server.port() + "/admin/shadow"))
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

  /**
   * Sends {@code n} single-row requests of random inputs, 16 at a time; returns the status codes the callers got.
   * With {@code paced}, every 64 requests wait until the mirror's queue is empty, so that however slow the
   * machine, no sample is dropped for a full queue (256) and every one is compared.
   */
  private static List<Integer> callers(RunningServer stable, int n, boolean paced) {
    float[][] rows = OnnxModels.mlpInputs(STABLE, n, 7);
    List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      sent.add(stable.postAsync("/v2/models/model/infer", V2Bodies.fp32(Mlp.INPUT, new float[][] {rows[i]}).toString()));
      if (sent.size() >= 16) {
        sent.get(sent.size() - 16).join();
      }
      if (paced && (i + 1) % 64 == 0) {
        sent.forEach(CompletableFuture::join);
        await().atMost(Duration.ofSeconds(60)).until(() -> shadow(stable, "modelship_shadow_queued") == 0);
      }
    }
    return sent.stream().map(f -> f.join().statusCode()).toList();
  }

  private static double shadow(RunningServer server, String name, String... labels) {
    return server.metric(name, labels).orElse(0.0);
  }

  @Test
  void theSameModelAgreesEverywhereAndAnotherIsMeasuredAsDifferent() throws Exception {
    try (RunningServer stable = server("stable", STABLE, true);
        RunningServer same = server("same", STABLE, false);
        RunningServer other = server("other", new Mlp(4, 16, 1, 3, 62), false)) {
      assertThat(admin(stable, "PUT", shadowTo("http://127.0.0.1:" + same.server.port(), "same", 1.0), TOKEN).statusCode())
          .isEqualTo(200);
      assertThat(callers(stable, 300, true)).containsOnly(200);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(shadow(stable,
          "modelship_shadow_requests_total", "shadow_version=\"same\"", "outcome=\"compared\"")).isEqualTo(300));
      assertThat(shadow(stable, "modelship_shadow_rows_total", "shadow_version=\"same\"")).isEqualTo(300);
      assertThat(shadow(stable, "modelship_shadow_agreeing_rows_total", "shadow_version=\"same\"")).isEqualTo(300);
      // Equal up to float rounding (the mirror's answer travels as JSON text).
      assertThat(shadow(stable, "modelship_shadow_mean_abs_diff_max", "shadow_version=\"same\"")).isLessThan(1e-6);
      // The mirrored requests reached the other server as requests of its own.
      assertThat(same.metric("modelship_inference_requests_total", "outcome=\"success\"").orElse(0.0)).isGreaterThanOrEqualTo(300);

      assertThat(admin(stable, "PUT", shadowTo("http://127.0.0.1:" + other.server.port(), "other", 0.5), TOKEN).statusCode())
          .isEqualTo(200);
      assertThat(callers(stable, 600, true)).containsOnly(200);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(shadow(stable,
          "modelship_shadow_requests_total", "shadow_version=\"other\"", "outcome=\"compared\"")).isGreaterThan(200));
      double rows = shadow(stable, "modelship_shadow_rows_total", "shadow_version=\"other\"");
      double agreeing = shadow(stable, "modelship_shadow_agreeing_rows_total", "shadow_version=\"other\"");
      System.out.printf("ShadowTrafficTest: a different model agrees on %.0f of %.0f rows (%.2f)%n", agreeing, rows,
          agreeing / rows);
      // Half the requests, within what chance allows, and the answers clearly differ.
      assertThat(rows).isBetween(200.0, 400.0);
      assertThat(agreeing / rows).isLessThan(0.9);
      assertThat(shadow(stable, "modelship_shadow_mean_abs_diff_max", "shadow_version=\"other\"")).isPositive();

      assertThat(admin(stable, "DELETE", null, TOKEN).body()).isEqualTo("{\"enabled\":false}");
      double compared = shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"other\"", "outcome=\"compared\"");
      callers(stable, 50, true);
      assertThat(shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"other\"", "outcome=\"compared\""))
          .isEqualTo(compared);
    }
  }

  @Test
  void aDeadOrHangingMirrorNeverReachesTheCaller() throws Exception {
    try (RunningServer stable = server("stable", STABLE, true);
        ServerSocket hanging = new ServerSocket(0)) {
      int dead;
      try (ServerSocket closed = new ServerSocket(0)) {
        dead = closed.getLocalPort();
      }
      admin(stable, "PUT", shadowTo("http://127.0.0.1:" + dead, "dead", 1.0), TOKEN);
      assertThat(callers(stable, 200, false)).containsOnly(200);
      // Five failures in a row, then the dead target is left alone instead of costing a connect per request.
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
          shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"dead\"", "outcome=\"failed\"")
              + shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"dead\"", "outcome=\"paused\"")
              + shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"dead\"", "outcome=\"dropped\""))
          .isEqualTo(200));
      assertThat(shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"dead\"", "outcome=\"failed\""))
          .isGreaterThanOrEqualTo(5);
      assertThat(shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"dead\"", "outcome=\"paused\""))
          .isPositive();

      // Accepts connections and never answers: every mirrored request waits out its timeout.
      List<Socket> held = new ArrayList<>();
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            held.add(hanging.accept());
          }
        } catch (IOException e) {
          // closed at the end of the test
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      admin(stable, "PUT", shadowTo("http://127.0.0.1:" + hanging.getLocalPort(), "hanging", 1.0), TOKEN);
      assertThat(callers(stable, 2000, false)).containsOnly(200);
      // Every sample ends as a timeout, a pause or a drop (ShadowMirrorTest pins down each bound on its own).
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(
          shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"hanging\"", "outcome=\"failed\"")
              + shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"hanging\"", "outcome=\"paused\"")
              + shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"hanging\"", "outcome=\"dropped\""))
          .isEqualTo(2000));
      assertThat(shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"hanging\"", "outcome=\"failed\""))
          .as("timed out, never answered").isGreaterThanOrEqualTo(5);
      admin(stable, "DELETE", null, TOKEN);
    }
  }

  @Test
  void theMirrorsRateIsCappedWhateverTheLoad() throws Exception {
    try (RunningServer stable = server("stable", STABLE, true);
        RunningServer same = server("same", STABLE, false)) {
      admin(stable, "PUT", shadowTo("http://127.0.0.1:" + same.server.port(), "capped", 1.0, 20), TOKEN);
      long started = System.nanoTime();
      assertThat(callers(stable, 400, true)).containsOnly(200);
      long seconds = java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) + 1;
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
          shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"capped\"", "outcome=\"compared\"")
              + shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"capped\"", "outcome=\"limited\""))
          .isEqualTo(400));
      // At most 20 in each second the callers' requests spanned (the seconds are counted whole, so one more).
      assertThat(shadow(stable, "modelship_shadow_requests_total", "shadow_version=\"capped\"", "outcome=\"compared\""))
          .isPositive().isLessThanOrEqualTo(20.0 * (seconds + 1));
    }
  }

  @Test
  void onlyTheOperatorsTokenTurnsMirroringOn() throws Exception {
    try (RunningServer stable = server("stable", STABLE, true);
        RunningServer without = server("plain", STABLE, false)) {
      String body = shadowTo("http://127.0.0.1:1", "x", 1.0);
      assertThat(admin(stable, "PUT", body, null).statusCode()).isEqualTo(401);
      assertThat(admin(stable, "PUT", body, "guess").statusCode()).isEqualTo(401);
      assertThat(admin(stable, "GET", null, TOKEN).body()).isEqualTo("{\"enabled\":false}");
      assertThat(admin(without, "PUT", body, TOKEN).statusCode()).as("no token file: no admin endpoint").isEqualTo(404);
      assertThat(admin(stable, "PUT", "{\"target\":\"ftp://x\",\"version\":\"v\"}", TOKEN).body())
          .contains("target must be an http(s) URL");
      assertThat(admin(stable, "PUT", "{\"target\":\"http://x:1\",\"version\":\"v\",\"share\":2}", TOKEN).statusCode())
          .isEqualTo(400);
      assertThat(admin(stable, "PUT", body, TOKEN).body()).contains("\"enabled\":true").contains("\"version\":\"x\"");
      assertThat(stable.metrics()).doesNotContain(TOKEN);
    }
  }
}
