package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import io.modelship.server.onnx.OnnxReference;
import io.modelship.server.serve.batch.BatchObserver;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrent requests are run together in batches of up to maxBatchSize rows, and every client still gets
 * exactly the answer it would get alone; a model whose batch dimension is fixed is never batched.
 */
class BatchingTest {
  private static final Mlp MLP = Mlp.small();
  @TempDir Path modelDir;

  @Test
  void concurrentRequestsAreBatchedAndAnswerAsIfAlone() throws Exception {
    Path onnx = OnnxModels.writeMlp(modelDir, MLP);
    CountDownLatch firstBatchHeld = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<Integer> batchRows = new CopyOnWriteArrayList<>();
    BatchObserver holdFirst = holdingTheFirstRun(batchRows, firstBatchHeld, release);
    ServeOptions options = TestServeOptions.defaults(modelDir, 0).withModel("iris", "1")
        .withBatching(8, Duration.ofMillis(50)).withWarmupIterations(0).withWarmupHttpRequests(0);

    try (RunningServer running = RunningServer.start(options, new ServeHooks(i -> {}, holdFirst));
        OnnxReference reference = new OnnxReference(onnx)) {
      running.awaitReady();
      List<float[][]> inputs = new ArrayList<>();
      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < 32; i++) {
        // Rows of 1 and 2 mix, so batches are cut by rows, not by request count.
        float[][] rows = OnnxModels.mlpInputs(MLP, 1 + i % 2, 100 + i);
        inputs.add(rows);
        answers.add(running.postAsync("/v2/models/iris/infer", V2Bodies.fp32(Mlp.INPUT, rows).toString()));
        if (i == 0) {
          firstBatchHeld.await(30, TimeUnit.SECONDS);
        }
      }
      await().atMost(Duration.ofSeconds(30))
          .until(() -> running.metric("modelship_inference_queue_depth", "model=\"iris\"").orElse(0.0) == 31);
      release.countDown();

      for (int i = 0; i < answers.size(); i++) {
        HttpResponse<String> response = answers.get(i).get(30, TimeUnit.SECONDS);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        float[][] alone = reference.runFloat(Mlp.INPUT, inputs.get(i));
        assertThat(V2Bodies.output(RunningServer.json(response), Mlp.OUTPUT)).as("request %d", i).isEqualTo(alone);
      }
      assertThat(batchRows).allMatch(rows -> rows <= 8);
      assertThat(batchRows.stream().mapToInt(Integer::intValue).sum()).isEqualTo(48);
      assertThat(batchRows.size()).isLessThan(32);
      assertThat(running.metric("modelship_inference_batch_size_max", "model=\"iris\"", "version=\"1\""))
          .hasValueSatisfying(max -> assertThat(max).isGreaterThan(1));
    }
  }

  /** Without a setting, a model on CPU batches up to 16 rows (BatchPolicy says why; a GPU keeps 8). */
  @Test
  void onCpuTheDefaultBatchIsSixteenRows() throws Exception {
    OnnxModels.writeMlp(modelDir, MLP);
    CountDownLatch firstBatchHeld = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<Integer> batchRows = new CopyOnWriteArrayList<>();
    BatchObserver holdFirst = holdingTheFirstRun(batchRows, firstBatchHeld, release);
    ServeOptions options = TestServeOptions.defaults(modelDir, 0).withModel("iris", "1").withWarmupIterations(0)
        .withWarmupHttpRequests(0);

    try (RunningServer running = RunningServer.start(options, new ServeHooks(i -> {}, holdFirst))) {
      running.awaitReady();
      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < 21; i++) {
        answers.add(running.postAsync("/v2/models/iris/infer",
            V2Bodies.fp32(Mlp.INPUT, OnnxModels.mlpInputs(MLP, 1, i)).toString()));
        if (i == 0) {
          firstBatchHeld.await(30, TimeUnit.SECONDS);
        }
      }
      await().atMost(Duration.ofSeconds(30))
          .until(() -> running.metric("modelship_inference_queue_depth", "model=\"iris\"").orElse(0.0) == 20);
      release.countDown();
      for (CompletableFuture<HttpResponse<String>> answer : answers) {
        assertThat(answer.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      }
      assertThat(batchRows).as("rows per model run: the held one, then the 20 that queued behind it")
          .containsExactly(1, 16, 4);
    }
  }

  @Test
  void aFixedBatchDimensionIsNeverBatched() throws Exception {
    OnnxModels.writeFixedBatch(modelDir);
    List<Integer> batchRows = new CopyOnWriteArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    ServeOptions options = TestServeOptions.defaults(modelDir, 0).withModel("fixed", "1")
        .withBatching(8, Duration.ofMillis(50)).withWarmupIterations(0).withWarmupHttpRequests(0);
    BatchObserver holdFirst = (requests, rows) -> {
      batchRows.add(requests);
      if (batchRows.size() == 1) {
        hold(release);
      }
    };

    try (RunningServer running = RunningServer.start(options, new ServeHooks(i -> {}, holdFirst))) {
      running.awaitReady();
      String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[-1,2,-3,4]}]}";
      List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        answers.add(running.postAsync("/v2/models/fixed/infer", body));
      }
      await().atMost(Duration.ofSeconds(30))
          .until(() -> running.metric("modelship_inference_queue_depth", "model=\"fixed\"").orElse(0.0) == 3);
      release.countDown();

      for (CompletableFuture<HttpResponse<String>> answer : answers) {
        HttpResponse<String> response = answer.get(30, TimeUnit.SECONDS);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(RunningServer.json(response).path("outputs").get(0).path("data").toString())
            .isEqualTo("[0.0,2.0,0.0,4.0]");
      }
      assertThat(batchRows).containsExactly(1, 1, 1, 1);
    }
  }

  /** Records each model run's rows and holds the first run until {@code release}, so that requests queue up. */
  private static BatchObserver holdingTheFirstRun(List<Integer> batchRows, CountDownLatch firstHeld,
      CountDownLatch release) {
    return (requests, rows) -> {
      batchRows.add(rows);
      if (batchRows.size() == 1) {
        firstHeld.countDown();
        hold(release);
      }
    };
  }

  private static void hold(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
