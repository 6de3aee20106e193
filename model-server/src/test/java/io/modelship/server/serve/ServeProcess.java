package io.modelship.server.serve;

import static org.awaitility.Awaitility.await;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code model-server serve} as its own JVM, the way a container runs it: its own heap limit and environment,
 * its output collected line by line, its port read from its log. The classpath goes in CLASSPATH, not -cp: ONNX
 * Runtime crashes on a command line near 4 KB.
 */
final class ServeProcess implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+)");
  private static final Duration START_WITHIN = Duration.ofSeconds(60);

  final Process process;
  final List<String> log = new CopyOnWriteArrayList<>();
  private final Thread reader;
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private int port;

  private ServeProcess(Process process) {
    this.process = process;
    this.reader = new Thread(() -> {
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
  }

  /**
   * Starts serve on a free loopback port with {@code jvmFlags}, {@code args} after the defaults, and
   * {@code env} added to (or, with a null value, removed from) this JVM's environment.
   */
  static ServeProcess start(Path modelDir, List<String> jvmFlags, List<String> args, Map<String, String> env)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmFlags);
    command.addAll(List.of("io.modelship.server.Main", "serve", "--model-dir", modelDir.toString(),
        "--host", "127.0.0.1", "--port", "0", "--device", "cpu"));
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("CLASSPATH", System.getProperty("java.class.path"));
    builder.environment().put("DJL_CACHE_DIR", modelDir.resolve("djl").toString());
    env.forEach((name, value) -> {
      if (value == null) {
        builder.environment().remove(name);
      } else {
        builder.environment().put(name, value);
      }
    });
    return new ServeProcess(builder.start());
  }

  /** Waits until the server listens; returns its port. */
  int awaitListening() {
    port = await().atMost(START_WITHIN).until(this::portFromLog, p -> p > 0);
    return port;
  }

  /** Waits until the server reports ready. */
  void awaitReady() {
    awaitListening();
    await().atMost(START_WITHIN).until(() -> status("/v2/health/ready") == 200);
  }

  /** The status of a GET, or -1 when the server cannot be reached. */
  int status(String path) {
    try {
      return client.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  HttpResponse<String> post(String path, String body, Duration timeout) throws IOException, InterruptedException {
    return client.send(HttpRequest.newBuilder(uri(path)).timeout(timeout)
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  String output() {
    return String.join("\n", log);
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  private int portFromLog() {
    for (String line : log) {
      Matcher matcher = LISTENING.matcher(line);
      if (matcher.find()) {
        return Integer.parseInt(matcher.group(1));
      }
    }
    return 0;
  }

  /** Waits for the output to end (the process exited) so assertions see all of it. */
  void awaitOutput() throws InterruptedException {
    reader.join(10_000);
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }
}
