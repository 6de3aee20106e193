package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import io.modelship.server.serve.batch.BatchObserver;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The queue in front of a model is bounded in rows; past it, clients get 503 with Retry-After at once. */
class OverloadTest {
  private static final Mlp MLP = Mlp.small();
  @TempDir Path modelDir;

  @Test
  void aFullQueueAnswers503WithRetryAfterAndCountsItAsRejected() throws Exception {
    OnnxModels.writeMlp(modelDir, MLP);
    CountDownLatch firstHeld = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean held = new AtomicBoolean();
    BatchObserver holdFirst = (requests, rows) -> {
      if (held.compareAndSet(false, true)) {
        firstHeld.countDown();
        hold(release);
      }
    };
    // Batching off, so queued requests stay queued one by one while the worker is held.
    ServeOptions options = TestServeOptions.defaults(modelDir, 0).withModel("iris", "1")
        .withBatching(1, Duration.ZERO).withWarmupIterations(0).withWarmupHttpRequests(0).withMaxQueue(4);

    try (RunningServer running = RunningServer.start(options, new ServeHooks(i -> {}, holdFirst))) {
      running.awaitReady();
      String one = V2Bodies.fp32(Mlp.INPUT, OnnxModels.mlpInputs(MLP, 1, 1)).toString();
      String two = V2Bodies.fp32(Mlp.INPUT, OnnxModels.mlpInputs(MLP, 2, 2)).toString();
      List<CompletableFuture<HttpResponse<String>>> accepted = new ArrayList<>();
      accepted.add(running.postAsync("/v2/models/iris/infer", one));
      assertThat(firstHeld.await(30, TimeUnit.SECONDS)).isTrue();
      // 3 rows wait: room for one more row, not for two.
      accepted.add(running.postAsync("/v2/models/iris/infer", two));
      accepted.add(running.postAsync("/v2/models/iris/infer", one));
      await().atMost(Duration.ofSeconds(30))
          .until(() -> running.metric("modelship_inference_queue_depth", "model=\"iris\"").orElse(0.0) == 2);

      HttpResponse<String> tooMany = running.post("/v2/models/iris/infer", two);
      assertThat(tooMany.statusCode()).isEqualTo(503);
      assertThat(tooMany.headers().firstValue("Retry-After")).contains("1");
      assertThat(RunningServer.json(tooMany).path("error").asText()).contains("queue is full");
      accepted.add(running.postAsync("/v2/models/iris/infer", one));
      await().atMost(Duration.ofSeconds(30))
          .until(() -> running.metric("modelship_inference_queue_depth", "model=\"iris\"").orElse(0.0) == 3);
      HttpResponse<String> full = running.post("/v2/models/iris/infer", one);
      assertThat(full.statusCode()).isEqualTo(503);

      release.countDown();
      for (CompletableFuture<HttpResponse<String>> answer : accepted) {
        HttpResponse<String> response = answer.get(30, TimeUnit.SECONDS);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      }
      // The meters are written just after the answer goes out.
      await().atMost(Duration.ofSeconds(10)).until(() -> running
          .metric("modelship_inference_requests_total", "model=\"iris\"", "outcome=\"success\"").orElse(0.0) == 4);
      assertThat(running.metric("modelship_inference_requests_total", "model=\"iris\"", "outcome=\"rejected\""))
          .contains(2.0);
      assertThat(running.metric("modelship_inference_requests_total", "model=\"iris\"",
          "outcome=\"server_error\"")).contains(0.0);
      // Room again once the queue drained.
      assertThat(running.post("/v2/models/iris/infer", two).statusCode()).isEqualTo(200);
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
