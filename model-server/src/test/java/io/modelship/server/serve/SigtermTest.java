package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code model-server serve} as a process: SIGTERM drains and the process exits 0, as Kubernetes expects. */
class SigtermTest {
  private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
  @TempDir Path modelDir;

  @Test
  void sigtermDrainsAndExitsZero() throws Exception {
    OnnxModels.writeMlp(modelDir, Mlp.small());
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder builder = new ProcessBuilder(java, "io.modelship.server.Main", "serve",
        "--model-dir", modelDir.toString(), "--model-name", "iris", "--host", "127.0.0.1", "--port", "0",
        "--device", "cpu", "--warmup-iterations", "2", "--warmup-http-requests", "2", "--drain-delay-ms", "50")
        .redirectErrorStream(true);
    // The classpath goes in CLASSPATH, not -cp: ONNX Runtime crashes on a command line near 4 KB.
    builder.environment().put("CLASSPATH", System.getProperty("java.class.path"));
    builder.environment().put("DJL_CACHE_DIR", modelDir.resolve("djl").toString());
    Process process = builder.start();
    List<String> log = new CopyOnWriteArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
          log.add(line);
        }
      } catch (IOException e) {
        log.add("reader: " + e);
      }
    }, "serve-output");
    reader.setDaemon(true);
    reader.start();
    try {
      int port = await().atMost(Duration.ofSeconds(60)).until(() -> port(log), p -> p > 0);
      HttpClient client = HttpClient.newHttpClient();
      await().atMost(Duration.ofSeconds(60)).until(() -> readyStatus(client, port) == 200);

      process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its output

      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as(String.join("\n", log)).isTrue();
      reader.join(TimeUnit.SECONDS.toMillis(10));
      assertThat(process.exitValue()).as(String.join("\n", log)).isZero();
      assertThat(String.join("\n", log)).contains("SIGTERM received", "still serving for 50 ms", "draining",
          "stopped");
    } finally {
      process.destroyForcibly();
    }
  }

  private static int port(List<String> log) {
    for (String line : log) {
      Matcher matcher = LISTENING.matcher(line);
      if (matcher.find()) {
        return Integer.parseInt(matcher.group(1));
      }
    }
    return 0;
  }

  private static int readyStatus(HttpClient client, int port) {
    try {
      return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/health/ready")).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
