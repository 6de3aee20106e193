package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import io.modelship.server.serve.batch.BatchObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a connection may cost the server, and what a drain does to connections: a head or body that never
 * completes is bounded, and keep-alive clients are told to reconnect instead of meeting a closed socket.
 */
class ConnectionsTest {
  private static final Duration WITHIN = Duration.ofSeconds(30);
  private static final String INFER = "/v2/models/iris/infer";
  @TempDir Path modelDir;

  private RunningServer start(ServeOptions options, ServeHooks hooks) {
    OnnxModels.writeMlp(modelDir, Mlp.small());
    RunningServer running = RunningServer.start(options.withModel("iris", "1").withWarmupIterations(1)
        .withWarmupHttpRequests(0), hooks);
    running.awaitReady();
    return running;
  }

  private static String body() {
    return V2Bodies.fp32(Mlp.INPUT, new float[][] {{1, 2, 3, 4}}).toString();
  }

  @Test
  void aConnectionThatNeverCompletesItsHeadIsClosedAfterTheIdleTimeout() throws Exception {
    try (RunningServer running = start(TestServeOptions.defaults(modelDir, 0)
        .withTimeouts(Duration.ofMillis(300), Duration.ZERO), ServeHooks.NONE);
        RawHttp raw = new RawHttp(running.server.port())) {
      raw.write("POST /v2/models/iris/inf");

      assertThat(raw.closedByServer()).as("closed by the server").isTrue();
    }
  }

  @Test
  void aBodyThatStopsHalfWayIsAnswered408() throws Exception {
    try (RunningServer running = start(TestServeOptions.defaults(modelDir, 0)
        .withTimeouts(Duration.ofSeconds(60), Duration.ofMillis(300)), ServeHooks.NONE);
        RawHttp raw = new RawHttp(running.server.port())) {
      raw.write("POST " + INFER + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"inputs\":");

      RawHttp.Answer answer = raw.read();

      assertThat(answer.status()).isEqualTo(408);
      assertThat(answer.text()).contains("did not arrive within 300 ms");
      assertThat(answer.closesConnection()).isTrue();
      assertThat(running.metric("modelship_inference_requests_total", "model=\"iris\"",
          "outcome=\"client_error\"")).contains(1.0);
    }
  }

  /**
   * kube-proxy balances connections, not requests: a client that keeps one connection alive would never reach a
   * pod started after it connected. An old connection's next answer tells its client to open a new one.
   */
  @Test
  void aKeepAliveConnectionPastItsMaximumAgeIsToldToReconnect() throws Exception {
    try (RunningServer running = start(TestServeOptions.defaults(modelDir, 0)
        .withMaxConnectionAge(Duration.ofMillis(300)), ServeHooks.NONE);
        RawHttp raw = new RawHttp(running.server.port())) {
      RawHttp.Answer first = raw.post(INFER, body()).read();
      assertThat(first.status()).isEqualTo(200);
      assertThat(first.closesConnection()).as("a young connection stays open").isFalse();

      // Every answer is a 200; within the age (300 ms ±25%) one of them says "Connection: close".
      await().atMost(WITHIN).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
        RawHttp.Answer answer = raw.post(INFER, body()).read();
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.closesConnection()).isTrue();
      });
      assertThat(raw.closedByServer()).isTrue();
    }
  }

  @Test
  void aStalledUploadDoesNotHoldTheDrainForTheDrainTimeout() throws Exception {
    // Neither timeout would end the upload before the test gives up: only the drain can.
    RunningServer running = start(TestServeOptions.defaults(modelDir, 0)
        .withTimeouts(Duration.ZERO, Duration.ZERO).withDrainTimeout(Duration.ofMinutes(10)), ServeHooks.NONE);
    try (RawHttp raw = new RawHttp(running.server.port())) {
      raw.write("POST " + INFER + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"inputs\":");
      await().atMost(WITHIN).until(() -> running.fresh().metric("modelship_inference_in_flight").orElse(0.0) == 1);

      CompletableFuture<Void> shutdown = CompletableFuture.runAsync(running.server::shutdown);
      RawHttp.Answer answer = raw.read();

      assertThat(answer.status()).isEqualTo(503);
      assertThat(answer.text()).contains("shutting down");
      assertThat(answer.headers()).containsEntry("retry-after", "1");
      shutdown.get(WITHIN.toSeconds(), TimeUnit.SECONDS);
    }
  }

  /**
   * Clients that keep a connection alive, as every HTTP client pool does, across a drain: each is answered
   * until an answer says "Connection: close" (then, in a cluster, its next connection reaches another pod), and
   * none sees an error or a closed socket.
   */
  @Test
  void keepAliveClientsSeeNoErrorAcrossADrain() throws Exception {
    CountDownLatch pausing = new CountDownLatch(1);
    CountDownLatch endPause = new CountDownLatch(1);
    ServeHooks holdDelay = new ServeHooks(iteration -> {}, BatchObserver.NONE, delay -> {
      pausing.countDown();
      endPause.await(30, TimeUnit.SECONDS);
    });
    RunningServer running = start(TestServeOptions.defaults(modelDir, 0), holdDelay);
    int clients = 4;
    List<String> errors = new CopyOnWriteArrayList<>();
    AtomicInteger toldToReconnect = new AtomicInteger();
    AtomicInteger answered = new AtomicInteger();
    CountDownLatch allBusy = new CountDownLatch(clients);
    List<Thread> threads = new java.util.ArrayList<>();
    for (int i = 0; i < clients; i++) {
      Thread client = new Thread(() -> {
        try (RawHttp raw = new RawHttp(running.server.port())) {
          for (int n = 0; ; n++) {
            RawHttp.Answer answer = raw.post(INFER, body()).read();
            if (answer.status() != 200) {
              errors.add(answer.status() + " " + answer.text());
              return;
            }
            answered.incrementAndGet();
            if (n == 5) {
              allBusy.countDown();
            }
            if (answer.closesConnection()) {
              toldToReconnect.incrementAndGet();
              return;
            }
          }
        } catch (IOException e) {
          errors.add(e.toString());
        }
      }, "keep-alive-client-" + i);
      threads.add(client);
      client.start();
    }
    assertThat(allBusy.await(30, TimeUnit.SECONDS)).isTrue();

    CompletableFuture<Void> shutdown = CompletableFuture.runAsync(running.server::shutdown);
    assertThat(pausing.await(30, TimeUnit.SECONDS)).isTrue();
    for (Thread client : threads) {
      client.join(TimeUnit.SECONDS.toMillis(30));
    }
    endPause.countDown();
    shutdown.get(30, TimeUnit.SECONDS);

    assertThat(errors).isEmpty();
    assertThat(toldToReconnect).hasValue(clients);
    assertThat(answered.get()).isGreaterThan(clients * 5);
  }

  @Test
  void aConnectionThatCarriedNoRequestYetIsLeftToItsRequest() throws Exception {
    CountDownLatch batchHeld = new CountDownLatch(1);
    CountDownLatch releaseBatch = new CountDownLatch(1);
    java.util.concurrent.atomic.AtomicBoolean holding = new java.util.concurrent.atomic.AtomicBoolean();
    ServeHooks hooks = new ServeHooks(iteration -> {}, (requests, rows) -> {
      if (holding.getAndSet(false)) {
        batchHeld.countDown();
        try {
          releaseBatch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }, delay -> {});
    RunningServer running = start(TestServeOptions.defaults(modelDir, 0), hooks);
    try (RawHttp busy = new RawHttp(running.server.port()); RawHttp opened = new RawHttp(running.server.port())) {
      // One request held in its batch keeps the drain waiting; the second connection has sent nothing yet.
      holding.set(true);
      busy.post(INFER, body());
      assertThat(batchHeld.await(30, TimeUnit.SECONDS)).isTrue();
      CompletableFuture<Void> shutdown = CompletableFuture.runAsync(running.server::shutdown);
      await().atMost(WITHIN).until(running.server::draining);

      opened.post(INFER, body());
      await().atMost(WITHIN).until(() -> running.fresh().metric("modelship_inference_in_flight").orElse(0.0) == 2);
      releaseBatch.countDown();

      assertThat(busy.read().status()).isEqualTo(200);
      RawHttp.Answer late = opened.read();
      assertThat(late.status()).isEqualTo(200);
      assertThat(late.closesConnection()).isTrue();
      shutdown.get(30, TimeUnit.SECONDS);
    }
  }
}
