package io.modelship.operator.analysis;

import static io.modelship.operator.analysis.Fixtures.errorRate;
import static io.modelship.operator.analysis.Fixtures.gate;
import static io.modelship.operator.analysis.Fixtures.latency;
import static io.modelship.operator.analysis.Fixtures.mdep;
import static io.modelship.operator.analysis.Fixtures.pod;
import static io.modelship.operator.analysis.Fixtures.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.GateSpec;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.serve.ModelServer;
import io.modelship.server.serve.ServeHooks;
import io.modelship.server.serve.ServeOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real model servers (this repository's, ONNX Runtime on CPU) play a canary and a stable pod on 127.0.0.1;
 * the analysis scrapes their /metrics over HTTP exactly as it scrapes pod IPs in a cluster.
 */
class RealModelServerAnalysisTest {
  private static final String VALID = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\","
      + "\"data\":[1,2,3,4]}]}";
  /** Passes the server's checks (K is open) and fails inside ONNX Runtime's MatMul: a 500. */
  private static final String FAILS_IN_MODEL = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\","
      + "\"data\":[1,2,3]}]}";
  /** Three values for a [1,4] shape: refused by the server's own checks, a 400. */
  private static final String BAD_SHAPE = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\","
      + "\"data\":[1,2,3]}]}";
  private static final double[] BOUNDS_MS = java.util.Arrays.stream(ScrapeText.LATENCY_BOUNDS).map(s -> s * 1000).toArray();

  @TempDir static Path models;
  private static ModelServer canaryServer;
  private static ModelServer stableServer;
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void startServers() throws IOException {
    canaryServer = start(models.resolve("canary"), "8");
    stableServer = start(models.resolve("stable"), "7");
    await().atMost(Duration.ofSeconds(60))
        .until(() -> canaryServer.whenReady().isDone() && stableServer.whenReady().isDone());
    canaryServer.whenReady().join();
    stableServer.whenReady().join();
  }

  private static ModelServer start(Path dir, String version) throws IOException {
    OnnxModels.writeOpenWidth(dir);
    return ModelServer.start(
        ServeOptions.defaults(dir, 0).withModel(Fixtures.MODEL, version).withWarmupIterations(0)
            .withWarmupHttpRequests(0), ServeHooks.NONE);
  }

  @AfterAll
  static void stopServers() {
    if (canaryServer != null) {
      canaryServer.shutdown();
    }
    if (stableServer != null) {
      stableServer.shutdown();
    }
  }

  /** Sends {@code count} requests, checks each got {@code status}, and returns the slowest one's time in ms. */
  private static double send(ModelServer server, String body, int count, int status) throws Exception {
    double slowest = 0;
    for (int i = 0; i < count; i++) {
      HttpRequest request = HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + server.port() + "/v2/models/" + Fixtures.MODEL + "/infer"))
          .timeout(Duration.ofSeconds(30))
          .POST(HttpRequest.BodyPublishers.ofString(body))
          .build();
      long start = System.nanoTime();
      HttpResponse<String> response = CLIENT.send(request, HttpResponse.BodyHandlers.ofString());
      slowest = Math.max(slowest, (System.nanoTime() - start) / 1e6);
      assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    }
    return slowest;
  }

  private static GateSpec named(GateSpec gate, String name) {
    gate.setName(name);
    return gate;
  }

  @Test
  void judgesTheCanaryOnWhatHappenedBetweenTwoRealScrapes() throws Exception {
    ModelDeployment mdep = mdep(50,
        named(errorRate(0.01), "strict-errors"),
        named(errorRate(0.05), "lenient-errors"),
        named(latency(10_000.0, null), "p99-absolute"),
        named(latency(null, 1_000_000.0), "p99-vs-stable"));
    Pod canary = pod("canary-1", "127.0.0.1", canaryServer.port(), 0);
    // Turned ready just now: its first window is not timed.
    canary.getStatus().setConditions(Fixtures.readyPod("canary-1", Fixtures.NOW).getStatus().getConditions());
    Pod stable = pod("stable-1", "127.0.0.1", stableServer.port(), 0);

    try (MetricsCanaryAnalysis analysis = new MetricsCanaryAnalysis(new DirectPodMetrics())) {
      // Failures before the first scrape are history: they must not land in the first window.
      send(canaryServer, FAILS_IN_MODEL, 20, 500);
      List<GateResultStatus> baseline = analysis.evaluate(request(mdep, List.of(canary), List.of(stable), Fixtures.NOW.plusSeconds(0)));
      assertThat(baseline).filteredOn(r -> !r.getGate().equals("restarts"))
          .allSatisfy(r -> assertThat(r.getVerdict()).as(r.getGate()).isEqualTo(Verdict.Inconclusive));
      assertThat(gate(baseline, "strict-errors").getMessage()).contains("1 first seen (baseline only)");

      // The canary's first window since it turned ready: its errors count, its latency is not timed yet.
      send(canaryServer, VALID, 60, 200);
      send(stableServer, VALID, 60, 200);
      List<GateResultStatus> cold = analysis.evaluate(request(mdep, List.of(canary), List.of(stable), Fixtures.NOW.plusSeconds(5)));
      assertThat(gate(cold, "strict-errors").getVerdict()).isEqualTo(Verdict.Pass);
      assertThat(gate(cold, "p99-absolute").getMessage()).contains("ready for under 5 s at the window's start");

      double slowestMs = Math.max(send(canaryServer, VALID, 60, 200), send(canaryServer, FAILS_IN_MODEL, 3, 500));
      send(canaryServer, BAD_SHAPE, 5, 400);
      send(stableServer, VALID, 60, 200);
      List<GateResultStatus> window = analysis.evaluate(request(mdep, List.of(canary), List.of(stable), Fixtures.NOW.plusSeconds(10)));

      GateResultStatus strict = gate(window, "strict-errors");
      assertThat(strict.getValue()).as("3 server errors in 68 requests").isCloseTo(3.0 / 68, within(1e-12));
      assertThat(strict.getVerdict()).isEqualTo(Verdict.Fail);
      assertThat(strict.getMessage()).startsWith("too many server errors: 3 of 68 canary requests failed with a 5xx");
      assertThat(gate(window, "lenient-errors").getVerdict()).isEqualTo(Verdict.Pass);

      GateResultStatus absolute = gate(window, "p99-absolute");
      assertThat(absolute.getVerdict()).as(absolute.getMessage()).isEqualTo(Verdict.Pass);
      // The server times each request within the client's own measurement, but it takes its end time just after
      // it has written the answer: a thread descheduled between the two (a busy machine, a GC pause) makes one
      // request a little slower to the server than to the client (seen once: 5.37 ms against a client's < 5 ms).
      // So the p99 reaches at most the top of the bucket above the one holding the slowest request the client saw.
      double ceiling = 10_000;
      for (int i = 0; i < BOUNDS_MS.length; i++) {
        if (BOUNDS_MS[i] >= slowestMs) {
          ceiling = BOUNDS_MS[Math.min(i + 1, BOUNDS_MS.length - 1)];
          break;
        }
      }
      assertThat(absolute.getValue()).isGreaterThan(0.0).isLessThanOrEqualTo(ceiling);
      GateResultStatus ratio = gate(window, "p99-vs-stable");
      assertThat(ratio.getVerdict()).as(ratio.getMessage()).isEqualTo(Verdict.Pass);
      assertThat(ratio.getValue()).isGreaterThan(0.0);
      assertThat(ratio.getMessage()).contains("on stable");
      assertThat(gate(window, "restarts").getVerdict()).isEqualTo(Verdict.Pass);

      List<GateResultStatus> idle = analysis.evaluate(request(mdep, List.of(canary), List.of(stable), Fixtures.NOW.plusSeconds(15)));
      assertThat(gate(idle, "strict-errors").getVerdict()).isEqualTo(Verdict.Inconclusive);
      assertThat(gate(idle, "strict-errors").getMessage()).startsWith("only 0 canary requests in this window");
    }
  }

  @Test
  void theLiveScrapeParsesAndCarriesTheCountersTheGatesRead() {
    String text = new DirectPodMetrics().scrape(pod("stable-1", "127.0.0.1", stableServer.port(), 0)).orElseThrow();

    List<PrometheusText.Sample> samples = PrometheusText.parse(text);

    assertThat(samples).filteredOn(s -> s.name().equals(ServerMetricNames.REQUESTS)
            && Fixtures.MODEL.equals(s.label(ServerMetricNames.MODEL)))
        .extracting(s -> s.label(ServerMetricNames.OUTCOME))
        .contains(ServerMetricNames.SUCCESS, ServerMetricNames.CLIENT_ERROR, ServerMetricNames.SERVER_ERROR);
    assertThat(samples).filteredOn(s -> s.name().equals(ServerMetricNames.LATENCY_BUCKET)
            && "+Inf".equals(s.label(ServerMetricNames.LE)))
        .isNotEmpty();
  }
}
