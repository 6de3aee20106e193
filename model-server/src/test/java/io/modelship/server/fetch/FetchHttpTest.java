package io.modelship.server.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fetch of a plain http(s) file from a real HTTP server (the JDK's) that can misbehave on purpose: answer 503 a few
 * times, drop a connection half-way through a range, or ignore ranges altogether.
 */
class FetchHttpTest {

  private static final byte[] MODEL = Artifacts.randomBytes(3 * 1024 * 1024 + 99, 11);
  private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d*)");

  private HttpServer server;
  private String base;
  private final List<String> ranges = new CopyOnWriteArrayList<>();
  private final AtomicInteger unavailableAnswersLeft = new AtomicInteger();
  private final AtomicInteger truncatedAnswersLeft = new AtomicInteger();
  private volatile boolean honourRanges = true;

  @TempDir Path tmp;

  @BeforeEach
  void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.createContext("/files/model.onnx", this::serveModel);
    server.createContext("/files/empty.txt", exchange -> {
      // What a range-aware server answers for any range of an empty file.
      boolean ranged = exchange.getRequestHeaders().getFirst("Range") != null;
      exchange.sendResponseHeaders(ranged ? 416 : 200, -1);
      exchange.close();
    });
    server.createContext("/files/missing.onnx", exchange -> {
      exchange.sendResponseHeaders(404, -1);
      exchange.close();
    });
    server.start();
    base = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @AfterEach
  void stopServer() {
    server.stop(0);
  }

  private void serveModel(HttpExchange exchange) throws IOException {
    try (exchange) {
      String range = exchange.getRequestHeaders().getFirst("Range");
      ranges.add(String.valueOf(range));
      if (unavailableAnswersLeft.getAndDecrement() > 0) {
        exchange.sendResponseHeaders(503, -1);
        return;
      }
      int from = 0;
      int to = MODEL.length - 1;
      Matcher m = range == null ? null : RANGE.matcher(range);
      boolean partial = honourRanges && m != null && m.matches();
      if (partial) {
        from = Integer.parseInt(m.group(1));
        if (!m.group(2).isEmpty()) {
          to = Math.min(to, Integer.parseInt(m.group(2)));
        }
        exchange.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + to + "/" + MODEL.length);
      }
      int length = to - from + 1;
      exchange.sendResponseHeaders(partial ? 206 : 200, length);
      try (OutputStream out = exchange.getResponseBody()) {
        if (length > 1 && truncatedAnswersLeft.getAndDecrement() > 0) {
          // Half the promised bytes, then silence on an open connection: a peer gone half-way through a part.
          out.write(MODEL, from, length / 2);
          out.flush();
          return;
        }
        out.write(MODEL, from, length);
      }
    } catch (IOException e) {
      // The half-written answer above ends in an exception on purpose.
    }
  }

  private FetchRun fetch(String url) {
    return new FetchRun(tmp).arg("--source", url).arg("--part-size-mib", "1");
  }

  @Test
  void presignedUrlIsFetchedInRangesAndItsSignatureNeverShown() throws Exception {
    String signature = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    String url = base + "/files/model.onnx?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAPRESIGNED%2F20261124"
        + "&X-Amz-Signature=" + signature;

    FetchRun run = fetch(url).arg("--sha256", Artifacts.sha256(MODEL)).run();

    assertThat(run.exitCode).as(run.toString()).isZero();
    assertThat(run.modelDir.resolve("model.onnx")).hasBinaryContent(MODEL);
    assertThat(run.result().source()).isEqualTo(base + "/files/model.onnx");
    assertThat(run.result().resolvedUri()).isEqualTo(base + "/files/model.onnx");
    assertThat(run.log).contains("in 4 part(s)");
    for (String secret : List.of(signature, "AKIAPRESIGNED", "X-Amz-Credential")) {
      assertThat(run.log).doesNotContain(secret);
      assertThat(run.terminationMessage()).doesNotContain(secret);
    }
  }

  @Test
  void transientUnavailabilityIsRetriedWithBackoff() throws Exception {
    unavailableAnswersLeft.set(2);

    FetchRun run = fetch(base + "/files/model.onnx").run();

    assertThat(run.exitCode).as(run.toString()).isZero();
    assertThat(run.modelDir.resolve("model.onnx")).hasBinaryContent(MODEL);
    assertThat(run.log).contains("failed (attempt 1/5)").contains("failed (attempt 2/5)").contains("HTTP 503");
  }

  @Test
  void anUnreachableServerIsNamedByHostAndPort() throws Exception {
    int closedPort;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }

    FetchRun run = fetch("http://127.0.0.1:" + closedPort + "/files/model.onnx").arg("--max-attempts", "2").run();

    assertThat(run.exitCode).as(run.toString()).isEqualTo(4);
    assertThat(run.error()).contains("cannot connect to 127.0.0.1:" + closedPort, "connection refused");
  }

  @Test
  void persistentUnavailabilityIsRetryableOnceTheRetriesRunOut() throws Exception {
    unavailableAnswersLeft.set(Integer.MAX_VALUE);

    FetchRun run = fetch(base + "/files/model.onnx").arg("--max-attempts", "3").run();

    assertThat(run.exitCode).as(run.toString()).isEqualTo(4);
    assertThat(run.error()).contains("HTTP 503");
    assertThat(ranges).hasSize(3);
    assertThat(run.modelDir).doesNotExist();
  }

  @Test
  void aConnectionThatStallsMidPartIsAbandonedAndThePartResumedWhereItStopped() throws Exception {
    truncatedAnswersLeft.set(1);

    FetchRun run = fetch(base + "/files/model.onnx").arg("--parallelism", "1").arg("--stall-timeout-s", "1").run();

    assertThat(run.exitCode).as(run.toString()).isZero();
    assertThat(run.modelDir.resolve("model.onnx")).hasBinaryContent(MODEL);
    assertThat(run.log).contains("broke off after 524288 bytes: stalled, no data for 1 s");
    // The first part stopped at 512 KiB; its retry asked only for the rest of it.
    assertThat(ranges).contains("bytes=524288-1048575");
  }

  @Test
  void aServerThatIgnoresRangesIsReadInOneStream() throws Exception {
    honourRanges = false;

    FetchRun run = fetch(base + "/files/model.onnx").run();

    assertThat(run.exitCode).as(run.toString()).isZero();
    assertThat(run.modelDir.resolve("model.onnx")).hasBinaryContent(MODEL);
    assertThat(run.log).contains("in 1 part(s)");
  }

  @Test
  void emptyFileLandsEmpty() throws Exception {
    FetchRun run = fetch(base + "/files/empty.txt").run();

    assertThat(run.exitCode).as(run.toString()).isZero();
    assertThat(run.modelDir.resolve("empty.txt")).isEmptyFile();
    assertThat(run.result().sha256()).isEqualTo(Artifacts.sha256(new byte[0]));
  }

  @Test
  void missingFileIsPermanent() throws Exception {
    FetchRun run = fetch(base + "/files/missing.onnx").run();

    assertThat(run.exitCode).as(run.toString()).isEqualTo(3);
    assertThat(run.error()).contains("not found (HTTP 404)").contains("/files/missing.onnx");
  }
}
