package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import io.modelship.server.serve.batch.BatchObserver;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Readiness follows warm-up on the way up and turns false first on the way down; nothing in flight is lost. */
class LifecycleTest {
  private static final Duration WITHIN = Duration.ofSeconds(30);
  @TempDir Path modelDir;

  @Test
  void notReadyUntilWarmUpHasRun() throws Exception {
    OnnxModels.writeMlp(modelDir, Mlp.small());
    CountDownLatch warmUpStarted = new CountDownLatch(1);
    CountDownLatch finishWarmUp = new CountDownLatch(1);
    ServeHooks holdWarmUp = new ServeHooks(iteration -> {
      if (iteration == 0) {
        warmUpStarted.countDown();
        hold(finishWarmUp);
      }
    }, (requests, rows) -> {});

    try (RunningServer running = RunningServer.start(
        TestServeOptions.defaults(modelDir, 0).withModel("iris", "1").withWarmupIterations(3), holdWarmUp)) {
      assertThat(warmUpStarted.await(30, TimeUnit.SECONDS)).isTrue();

      assertThat(running.get("/v2/health/live").statusCode()).isEqualTo(200);
      assertThat(running.get("/v2/health/ready").statusCode()).isEqualTo(503);
      assertThat(running.get("/v2/models/iris/ready").statusCode()).isEqualTo(503);
      assertThat(running.get("/ping").statusCode()).isEqualTo(503);
      HttpResponse<String> early = running.post("/v2/models/iris/infer",
          V2Bodies.fp32(Mlp.INPUT, new float[][] {{1, 2, 3, 4}}).toString());
      assertThat(early.statusCode()).isEqualTo(503);
      assertThat(RunningServer.json(early).path("error").asText()).contains("not ready (WARMING_UP)");
      assertThat(running.metric("modelship_model_ready", "model=\"iris\"")).contains(0.0);

      finishWarmUp.countDown();

      await().atMost(WITHIN).until(() -> running.get("/v2/health/ready").statusCode() == 200);
      assertThat(running.get("/v2/models/iris/ready").statusCode()).isEqualTo(200);
      assertThat(running.metric("modelship_model_warmup_seconds", "model=\"iris\""))
          .hasValueSatisfying(seconds -> assertThat(seconds).isGreaterThanOrEqualTo(0));
    }
  }

  @Test
  void warmUpUsesTheInputExampleBesideTheModel() throws Exception {
    OnnxModels.writeMlp(modelDir, Mlp.small());
    Files.writeString(modelDir.resolve("input_example.json"), "[[0.5, -1, 2, 0]]");
    CountDownLatch sawOneRow = new CountDownLatch(3);
    ServeHooks countRows = new ServeHooks(iteration -> {}, (requests, rows) -> {
      if (rows == 1) {
        sawOneRow.countDown();
      }
    });

    try (RunningServer running = RunningServer.start(
        TestServeOptions.defaults(modelDir, 0).withModel("iris", "1").withWarmupIterations(3), countRows)) {
      running.awaitReady();
      assertThat(sawOneRow.getCount()).isZero();
    }
  }

  @Test
  void drainFinishesInFlightRequestsAndStillAnswersLateOnes() throws Exception {
    OnnxModels.writeMlp(modelDir, Mlp.small());
    CountDownLatch batchRunning = new CountDownLatch(1);
    CountDownLatch finishBatch = new CountDownLatch(1);
    AtomicBoolean warm = new AtomicBoolean();
    ServeHooks holdBatch = new ServeHooks(iteration -> {}, (requests, rows) -> {
      if (warm.get()) {
        batchRunning.countDown();
        hold(finishBatch);
      }
    });
    RunningServer running = RunningServer.start(
        TestServeOptions.defaults(modelDir, 0).withModel("iris", "1").withWarmupIterations(1), holdBatch);
    running.awaitReady();
    warm.set(true);
    String body = V2Bodies.fp32(Mlp.INPUT, new float[][] {{1, 2, 3, 4}}).toString();

    CompletableFuture<HttpResponse<String>> inFlight = running.postAsync("/v2/models/iris/infer", body);
    assertThat(batchRunning.await(30, TimeUnit.SECONDS)).isTrue();
    CompletableFuture<Void> shutdown = CompletableFuture.runAsync(running.server::shutdown);

    await().atMost(WITHIN).until(running.server::draining);
    // A client that still reaches the pod (its endpoints are not gone everywhere yet) is answered, not refused.
    RunningServer newClient = running.fresh();
    CompletableFuture<HttpResponse<String>> late = newClient.postAsync("/v2/models/iris/infer", body);
    // Queued behind the held batch, so the drain has two requests to wait for.
    await().atMost(WITHIN).until(() -> running.fresh()
        .metric("modelship_inference_queue_depth", "model=\"iris\"").orElse(0.0) == 1);
    assertThat(shutdown).isNotDone();

    finishBatch.countDown();

    HttpResponse<String> finished = inFlight.get(30, TimeUnit.SECONDS);
    assertThat(finished.statusCode()).as(finished.body()).isEqualTo(200);
    HttpResponse<String> lateAnswer = late.get(30, TimeUnit.SECONDS);
    assertThat(lateAnswer.statusCode()).as(lateAnswer.body()).isEqualTo(200);
    shutdown.get(30, TimeUnit.SECONDS);
  }

  @Test
  void duringTheDrainDelayRequestsAreStillServedAndReadinessStaysTrue() throws Exception {
    OnnxModels.writeMlp(modelDir, Mlp.small());
    CountDownLatch pausing = new CountDownLatch(1);
    CountDownLatch endPause = new CountDownLatch(1);
    AtomicReference<Duration> pausedFor = new AtomicReference<>();
    ServeHooks holdDelay = new ServeHooks(iteration -> {}, BatchObserver.NONE, delay -> {
      pausedFor.set(delay);
      pausing.countDown();
      endPause.await(30, TimeUnit.SECONDS);
    });
    RunningServer running = RunningServer.start(TestServeOptions.defaults(modelDir, 0).withModel("iris", "1")
        .withWarmupIterations(1).withDrainDelay(Duration.ofMillis(1234)), holdDelay);
    running.awaitReady();
    String body = V2Bodies.fp32(Mlp.INPUT, new float[][] {{1, 2, 3, 4}}).toString();

    CompletableFuture<Void> shutdown = CompletableFuture.runAsync(running.server::shutdown);
    assertThat(pausing.await(30, TimeUnit.SECONDS)).isTrue();

    assertThat(pausedFor.get()).isEqualTo(Duration.ofMillis(1234));
    // Kubernetes takes a terminating pod out of Service endpoints by itself; a readiness that stays true while the
    // server answers marks it as still serving, and a normal shutdown logs no failed probe.
    assertThat(running.fresh().get("/v2/health/ready").statusCode()).isEqualTo(200);
    assertThat(running.fresh().get("/v2/models/iris/ready").statusCode()).isEqualTo(200);
    HttpResponse<String> served = running.fresh().post("/v2/models/iris/infer", body);
    assertThat(served.statusCode()).as(served.body()).isEqualTo(200);
    assertThat(shutdown).isNotDone();

    endPause.countDown();

    shutdown.get(30, TimeUnit.SECONDS);
  }

  @Test
  void aServerThatNeverGotReadySkipsTheDrainDelay() throws Exception {
    Files.write(modelDir.resolve("model.onnx"), new byte[] {1, 2, 3});
    AtomicBoolean paused = new AtomicBoolean();
    ServeHooks watchDelay = new ServeHooks(iteration -> {}, BatchObserver.NONE, delay -> paused.set(true));
    RunningServer running = RunningServer.start(TestServeOptions.defaults(modelDir, 0).withModel("broken", "1")
        .withDrainDelay(Duration.ofSeconds(20)), watchDelay);
    await().atMost(WITHIN).until(() -> running.server.whenReady().isDone());

    running.server.shutdown();

    assertThat(paused).isFalse();
  }

  @Test
  void aModelThatCannotLoadFailsTheStartInsteadOfHangingUnready() throws Exception {
    Files.write(modelDir.resolve("model.onnx"), new byte[] {1, 2, 3});

    try (RunningServer running = RunningServer.start(
        TestServeOptions.defaults(modelDir, 0).withModel("broken", "1"), ServeHooks.NONE)) {
      await().atMost(WITHIN).until(() -> running.server.whenReady().isDone());

      assertThat(running.server.whenReady()).isCompletedExceptionally();
      assertThat(running.get("/v2/health/ready").statusCode()).isEqualTo(503);
      assertThat(running.get("/v2/health/live").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void anEngineFailureIs500WithAShortMessage() {
    OnnxModels.writeOpenWidth(modelDir);

    try (RunningServer running = RunningServer.startReady(
        TestServeOptions.defaults(modelDir, 0).withModel("open", "1").withWarmupIterations(0))) {
      HttpResponse<String> response = running.post("/v2/models/open/infer",
          "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}");

      assertThat(response.statusCode()).isEqualTo(500);
      String error = RunningServer.json(response).path("error").asText();
      assertThat(error).startsWith("inference failed: ").doesNotContain("\tat ", "Exception");
      assertThat(error.length()).isLessThan(260);
      assertThat(running.metric("modelship_inference_requests_total", "model=\"open\"", "outcome=\"server_error\""))
          .contains(1.0);
      HttpResponse<String> fine = running.post("/v2/models/open/infer",
          "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}");
      assertThat(fine.statusCode()).isEqualTo(200);
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
