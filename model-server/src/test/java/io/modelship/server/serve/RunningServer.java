package io.modelship.server.serve;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A real model server on a free port of 127.0.0.1, and a plain HTTP client to talk to it. */
final class RunningServer implements AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration READY_WITHIN = Duration.ofSeconds(30);

  final ModelServer server;
  private final HttpClient client;

  private RunningServer(ModelServer server) {
    this.server = server;
    this.client = newClient();
  }

  private RunningServer(ModelServer server, HttpClient client) {
    this.server = server;
    this.client = client;
  }

  private static HttpClient newClient() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
  }

  /**
   * The same server through a new client with no pooled connections: during a drain the server closes idle
   * keep-alive connections, and a pooled one may be picked just as it closes (the race every client has).
   */
  RunningServer fresh() {
    return new RunningServer(server, newClient());
  }

  /** Starts the server on a free port, without the pre-drain delay's wait; does not wait for the model. */
  static RunningServer start(ServeOptions options, ServeHooks hooks) {
    try {
      // The pre-drain delay is real time; tests skip it unless they hold it themselves with their own pause.
      ServeHooks noDelay = hooks.drainPause() == ServeHooks.DrainPause.WAIT
          ? new ServeHooks(hooks.beforeWarmUpIteration(), hooks.beforeBatch(), delay -> {})
          : hooks;
      return new RunningServer(ModelServer.start(options.withListen("127.0.0.1", 0), noDelay));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts the server and waits until it reports ready. */
  static RunningServer startReady(ServeOptions options) {
    RunningServer running = start(options, ServeHooks.NONE);
    running.awaitReady();
    return running;
  }

  void awaitReady() {
    await().atMost(READY_WITHIN).until(() -> server.whenReady().isDone());
    server.whenReady().join();
  }

  HttpResponse<String> get(String path, String... headers) {
    return send(request(path, headers).GET().build());
  }

  HttpResponse<String> post(String path, String body, String... headers) {
    return send(request(path, headers).POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  HttpResponse<byte[]> postBytes(String path, byte[] body, String... headers) {
    try {
      return client.send(request(path, headers).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
          HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  CompletableFuture<HttpResponse<String>> postAsync(String path, String body, String... headers) {
    return client.sendAsync(request(path, headers).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  CompletableFuture<HttpResponse<String>> getAsync(String path, String... headers) {
    return client.sendAsync(request(path, headers).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(HttpResponse<String> response) {
    return json(response.body());
  }

  static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException("not JSON: " + text, e);
    }
  }

  String metrics() {
    return get("/metrics").body();
  }

  /** The value of the one series of {@code name} whose labels include every {@code label="value"} given. */
  Optional<Double> metric(String name, String... labels) {
    Pattern line = Pattern.compile("^" + Pattern.quote(name) + "(?:\\{([^}]*)\\})? (\\S+)$", Pattern.MULTILINE);
    Matcher matcher = line.matcher(metrics());
    while (matcher.find()) {
      String found = matcher.group(1) == null ? "" : matcher.group(1);
      boolean all = true;
      for (String label : labels) {
        all &= found.contains(label);
      }
      if (all) {
        return Optional.of(Double.parseDouble(matcher.group(2)));
      }
    }
    return Optional.empty();
  }

  private HttpRequest.Builder request(String path, String... headers) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).timeout(Duration.ofSeconds(30));
    for (int i = 0; i < headers.length; i += 2) {
      builder.header(headers[i], headers[i + 1]);
    }
    return builder;
  }

  private HttpResponse<String> send(HttpRequest request) {
    try {
      return client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.shutdown();
  }
}
