package io.modelship.server.testing;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code mlflow server} (tracking, registry and artifact proxy) for the tests of both modules: the pinned MLflow is
 * installed once into a cached virtualenv by {@link PythonVenv}, then a server runs on a free
 * loopback port with a SQLite store and local artifacts in a temporary directory.
 */
public final class MlflowServer implements AutoCloseable {

  public static final String VERSION = "3.17.2";
  private static final ObjectMapper JSON = new ObjectMapper();

  private Process process;
  private final Path home;
  private final Path mlflow;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  public final String uri;
  private final int port;

  private final String host;

  private MlflowServer(Process process, Path home, Path mlflow, String host, int port) {
    this.process = process;
    this.home = home;
    this.mlflow = mlflow;
    this.host = host;
    this.port = port;
    this.uri = "http://" + host + ":" + port;
  }

  /** Why the server cannot run here (no python3), or empty when it can. */
  public static Optional<String> unavailableReason() {
    return PythonVenv.unavailableReason().map(why -> why + ", so no MLflow server can be installed");
  }

  /** The mlflow executable of the cached venv, created on first use. */
  public static Path installedMlflow() throws IOException, InterruptedException {
    return PythonVenv.create("mlflow-" + VERSION, "mlflow==" + VERSION).resolve("bin/mlflow");
  }

  public static MlflowServer start(Path home) throws IOException, InterruptedException {
    return start(home, "127.0.0.1");
  }

  /**
   * A server listening on {@code host} only: loopback for tests in this JVM, the node's address for pods of the
   * one-node cluster (allowed as a Host header too: MLflow refuses hosts other than localhost and private ranges).
   */
  public static MlflowServer start(Path home, String host) throws IOException, InterruptedException {
    Path mlflow = installedMlflow();
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getByName(host))) {
      port = socket.getLocalPort();
    }
    MlflowServer server = new MlflowServer(null, home, mlflow, host, port);
    server.launch();
    return server;
  }

  /** Starts the server again on the same port and the same store after {@link #stop()}; running, it stays as it is. */
  public void restart() throws IOException {
    if (process == null || !process.isAlive()) {
      launch();
    }
  }

  private void launch() throws IOException {
    process =
        new ProcessBuilder(
                mlflow.toString(), "server",
                "--host", host,
                "--port", Integer.toString(port),
                "--allowed-hosts", "localhost,127.0.0.1,%s,%s:%d".formatted(host, host, port),
                "--backend-store-uri", "sqlite:///" + home.resolve("mlflow.db"),
                "--artifacts-destination", home.resolve("artifacts").toString(),
                "--workers", "1")
            .directory(home.toFile())
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve("server.log").toFile()))
            .start();
    Process started = process;
    try {
      await("mlflow server on port " + port)
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(250))
          .until(
              () -> {
                if (!started.isAlive()) {
                  throw new IllegalStateException(
                      "mlflow server exited: " + Files.readString(home.resolve("server.log")));
                }
                return healthy();
              });
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private boolean healthy() {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(uri + "/health")).build(), HttpResponse.BodyHandlers.discarding())
              .statusCode()
          == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public JsonNode post(String endpoint, Object body) throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(uri + "/api/2.0/mlflow/" + endpoint))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException(endpoint + " -> " + response.statusCode() + " " + response.body());
    }
    return JSON.readTree(response.body());
  }

  /** Uploads one artifact file through the artifact proxy, as MlflowClient.log_artifact does with serve-artifacts. */
  public void upload(String artifactPath, byte[] bytes) throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(uri + "/api/2.0/mlflow-artifacts/artifacts/" + artifactPath))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("upload " + artifactPath + " -> " + response.statusCode() + " " + response.body());
    }
  }

  /**
   * Marks a version's registration as failed in the registry's own database. The open-source registry store
   * creates every version READY (only registries that copy artifacts, such as Databricks', pass through
   * PENDING_REGISTRATION), so this is the only way to have a real server answer a non-READY status.
   */
  public void failRegistration(String name, int version, String message) throws IOException, InterruptedException {
    setStatus(name, version, "FAILED_REGISTRATION", message);
  }

  /** Sets a version's registration status (and its message) in the registry's own database. */
  public void setStatus(String name, int version, String status, String message) throws IOException, InterruptedException {
    Path python = mlflow.resolveSibling("python");
    Process update =
        new ProcessBuilder(
                python.toString(),
                "-c",
                "import sqlite3, sys\n"
                    + "c = sqlite3.connect(sys.argv[1])\n"
                    + "n = c.execute(\"update model_versions set status=?, status_message=?"
                    + " where name=? and version=?\", (sys.argv[5], sys.argv[4], sys.argv[2], int(sys.argv[3]))).rowcount\n"
                    + "c.commit()\n"
                    + "sys.exit(0 if n == 1 else 1)\n",
                home.resolve("mlflow.db").toString(),
                name,
                Integer.toString(version),
                message,
                status)
            .redirectErrorStream(true)
            .start();
    String out = new String(update.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!update.waitFor(30, TimeUnit.SECONDS) || update.exitValue() != 0) {
      throw new IllegalStateException("could not set the version's status: " + out);
    }
  }

  /** Stops the server, keeping its store: {@link #restart()} brings it back. */
  public void stop() {
    close();
  }

  @Override
  public void close() {
    if (process == null) {
      return;
    }
    // uvicorn runs as a child of the mlflow CLI: stop the whole tree, children first.
    List<ProcessHandle> children = process.descendants().toList();
    children.forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      await("mlflow server to stop")
          .atMost(Duration.ofSeconds(20))
          .until(() -> !process.isAlive() && children.stream().noneMatch(ProcessHandle::isAlive));
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      children.forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }
}
