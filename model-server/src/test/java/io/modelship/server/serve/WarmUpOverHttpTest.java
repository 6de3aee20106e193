package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import io.modelship.server.serve.http.HttpFrontEnd;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Before ready, the server sends itself real infer requests over HTTP; nobody else gets past readiness or the
 * API key that way, and none of them shows up in the request meters.
 */
class WarmUpOverHttpTest {
  @TempDir Path modelDir;

  @Test
  void httpWarmUpRunsBeforeReadyAndIsNotCounted() throws Exception {
    OnnxModels.writeMlp(modelDir, Mlp.small());
    Path keyFile = Files.writeString(modelDir.resolve("api-key"), "s3cret\n");
    CountDownLatch engineWarmUpStarted = new CountDownLatch(1);
    CountDownLatch finishEngineWarmUp = new CountDownLatch(1);
    AtomicInteger requestsBeforeReady = new AtomicInteger();
    CountDownLatch[] readyRef = {new CountDownLatch(1)};
    ServeHooks hooks = new ServeHooks(iteration -> {
      engineWarmUpStarted.countDown();
      hold(finishEngineWarmUp);
    }, (requests, rows) -> {
      if (readyRef[0].getCount() > 0) {
        requestsBeforeReady.addAndGet(requests);
      }
    });
    ServeOptions options = ServeOptions.defaults(modelDir, 0).withModel("iris", "1").withWarmupIterations(1)
        .withWarmupHttpRequests(6).withApiKeyFile(keyFile);

    try (RunningServer running = RunningServer.start(options, hooks)) {
      assertThat(engineWarmUpStarted.await(30, TimeUnit.SECONDS)).isTrue();
      String body = V2Bodies.fp32(Mlp.INPUT, new float[][] {{1, 2, 3, 4}}).toString();
      // A client that guesses at the warm-up header gets nowhere: not past the key, not past readiness.
      HttpResponse<String> noKey = running.post("/v2/models/iris/versions/1/infer", body,
          HttpFrontEnd.WARM_UP_HEADER, "guess");
      assertThat(noKey.statusCode()).isEqualTo(401);
      HttpResponse<String> notReady = running.post("/v2/models/iris/versions/1/infer", body,
          HttpFrontEnd.WARM_UP_HEADER, "guess", "X-API-Key", "s3cret");
      assertThat(notReady.statusCode()).isEqualTo(503);
      assertThat(RunningServer.json(notReady).path("error").asText()).contains("not ready (WARMING_UP)");

      finishEngineWarmUp.countDown();
      running.awaitReady();
      readyRef[0].countDown();

      // One engine iteration, then the six HTTP requests (over several connections: batched or not), all before ready.
      assertThat(requestsBeforeReady.get()).isEqualTo(1 + 6);
      await().atMost(Duration.ofSeconds(10)).until(() -> running.metric("modelship_inference_requests_total",
          "model=\"iris\"", "outcome=\"client_error\"").orElse(0.0) == 1);
      assertThat(running.metric("modelship_inference_requests_total", "model=\"iris\"", "outcome=\"success\""))
          .contains(0.0);
      assertThat(running.metric("modelship_inference_queue_seconds_count", "model=\"iris\"")).contains(0.0);

      // After ready the header means nothing: the key is needed again.
      HttpResponse<String> late = running.post("/v2/models/iris/infer", body, HttpFrontEnd.WARM_UP_HEADER, "x");
      assertThat(late.statusCode()).isEqualTo(401);
      HttpResponse<String> fine = running.post("/v2/models/iris/infer", body, "X-API-Key", "s3cret");
      assertThat(fine.statusCode()).as(fine.body()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(10)).until(() -> running
          .metric("modelship_inference_requests_total", "model=\"iris\"", "outcome=\"success\"").orElse(0.0) == 1);
    }
  }

  @Test
  void aReadinessProbeThatMayWaitIsAnsweredWhenTheModelIsReady() throws Exception {
    // The pod's startup probe asks this way, so that warm-up, however long, records no failed probe.
    OnnxModels.writeMlp(modelDir, Mlp.small());
    CountDownLatch engineWarmUpStarted = new CountDownLatch(1);
    CountDownLatch finishEngineWarmUp = new CountDownLatch(1);
    ServeHooks hooks = new ServeHooks(iteration -> {
      engineWarmUpStarted.countDown();
      hold(finishEngineWarmUp);
    }, (requests, rows) -> {});
    ServeOptions options = ServeOptions.defaults(modelDir, 0).withModel("iris", "1").withWarmupIterations(1)
        .withWarmupHttpRequests(0);

    try (RunningServer running = RunningServer.start(options, hooks)) {
      assertThat(engineWarmUpStarted.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(running.get("/v2/health/ready").statusCode()).as("no wait asked: at once").isEqualTo(503);
      assertThat(running.get("/v2/health/ready?waitSeconds=1").statusCode()).as("the wait ran out").isEqualTo(503);
      HttpResponse<String> bad = running.get("/v2/health/ready?waitSeconds=soon");
      assertThat(bad.statusCode()).isEqualTo(400);
      assertThat(RunningServer.json(bad).path("error").asText()).contains("waitSeconds", "0 to 120", "soon");

      var held = running.getAsync("/v2/health/ready?waitSeconds=25");
      // Warm-up is held by the latch: the answer cannot have come. One metrics scrape proves the server answers
      // other requests meanwhile (the wait holds no thread).
      assertThat(running.metrics()).contains("modelship_");
      assertThat(held).isNotDone();

      finishEngineWarmUp.countDown();
      HttpResponse<String> answer = held.get(20, TimeUnit.SECONDS);
      assertThat(answer.statusCode()).isEqualTo(200);
      assertThat(RunningServer.json(answer).path("ready").asBoolean()).isTrue();
    }
  }

  private static void hold(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
