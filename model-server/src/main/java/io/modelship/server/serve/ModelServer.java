package io.modelship.server.serve;

import io.modelship.server.serve.http.ApiKey;
import io.modelship.server.serve.http.HttpFrontEnd;
import io.modelship.server.serve.http.HttpLimits;
import io.modelship.server.serve.metrics.ServerMetrics;
import io.modelship.server.serve.model.ModelArtifact;
import io.modelship.server.serve.registry.ModelRegistry;
import io.modelship.server.serve.registry.ModelVersion;
import io.modelship.server.serve.registry.ServerHealth;
import io.modelship.server.serve.shadow.ShadowMirror;
import io.modelship.server.serve.versions.InPlaceVersions;
import io.modelship.server.serve.model.Signature;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code serve} role's lifecycle: listen first (liveness answers while the model loads), then load the
 * model, warm it up, and only then report ready; on shutdown, drain in the order the pod contract gives
 * (readiness false, refuse new inference, finish what is in flight, then stop). It wires the parts together
 * and never handles a request itself.
 */
public final class ModelServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ModelServer.class);
  /** Input values one request may carry by default: about 1 MiB of FP32, whatever the model's width. */
  static final long DEFAULT_REQUEST_VALUES = 262_144;

  private final ServeOptions options;
  private final ServeHooks hooks;
  private final Vertx vertx;
  private final ServerMetrics metrics = new ServerMetrics();
  private final ModelRegistry registry = new ModelRegistry();
  private final ServerHealth health = new ServerHealth();
  private final HttpFrontEnd http;
  private final CompletableFuture<ModelVersion> ready = new CompletableFuture<>();
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final CompletableFuture<Void> drained = new CompletableFuture<>();
  /** Lets the server's own warm-up requests past readiness; random per process, never logged or sent away. */
  private final String warmUpToken = newToken();
  private final long startedAt = System.nanoTime();

  private final ShadowMirror mirror = new ShadowMirror(metrics.registry());
  private final VersionLoader loader;
  private final InPlaceVersions inPlace;

  private ModelServer(ServeOptions options, ServeHooks hooks, Optional<ApiKey> apiKey, Optional<ApiKey> adminToken) {
    this.options = options;
    this.hooks = hooks;
    // The root filesystem is read-only in the pod: Vert.x must not create its file cache in the working dir.
    this.vertx =
        Vertx.vertx(
            new VertxOptions()
                .setFileSystemOptions(
                    new FileSystemOptions().setFileCachingEnabled(false).setClassPathResolvingEnabled(false)));
    String version = Optional.ofNullable(ModelServer.class.getPackage().getImplementationVersion()).orElse("dev");
    HttpLimits limits = new HttpLimits(options.maxBodyBytes(), options.idleTimeout(), options.bodyTimeout(),
        options.maxConnectionAge());
    this.loader = new VersionLoader(options, hooks, health, this::port, warmUpToken);
    this.inPlace = new InPlaceVersions(registry, metrics, loader::loadBeside, options.versionsDir(),
        options.credentialsDir(), options.drainTimeout(), options.memoryBudgetBytes());
    this.http = new HttpFrontEnd(vertx, registry, metrics, limits, apiKey, version, warmUpToken, health, mirror,
        adminToken, inPlace);
  }

  /**
   * Starts listening and begins loading the model in the background. Returns once the port is open; watch
   * {@link #whenReady()} for the model.
   */
  public static ModelServer start(ServeOptions options, ServeHooks hooks) throws IOException {
    Optional<ApiKey> apiKey = options.apiKeyFile().isPresent()
        ? Optional.of(ApiKey.fromFile(options.apiKeyFile().get()))
        : Optional.empty();
    Optional<ApiKey> adminToken = options.adminTokenFile().isPresent()
        ? Optional.of(ApiKey.fromFile(options.adminTokenFile().get()))
        : Optional.empty();
    ModelServer server = new ModelServer(options, hooks, apiKey, adminToken);
    try {
      server.http.listen(options.host(), options.port()).toCompletionStage().toCompletableFuture().get(30,
          TimeUnit.SECONDS);
    } catch (Exception e) {
      server.close();
      Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
      String why = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
      throw new IOException("cannot listen on " + options.host() + ":" + options.port() + ": " + why
          + (cause instanceof java.net.BindException ? " (another process holds the port; choose --port)" : ""), e);
    }
    LOG.info("listening on {}:{} ({}); API key {}", options.host(), server.port(),
        "v2, /predictions, /metrics", apiKey.isPresent() ? "required for inference" : "not required");
    Thread loader = new Thread(server::loadAndWarmUp, "model-loader");
    loader.setDaemon(true);
    loader.start();
    return server;
  }

  private void loadAndWarmUp() {
    ModelVersion modelVersion = null;
    try {
      ModelArtifact artifact = ModelArtifact.locate(options.modelDir());
      String name = options.modelName().orElseGet(() -> baseName(artifact));
      String version = options.modelVersion().or(artifact::recordedVersion).or(options::defaultModelVersion)
          .orElse("unversioned");
      modelVersion = new ModelVersion(name, version, metrics.model(name, version));
      registry.add(modelVersion);
      applyPlacementFile();
      inPlace.adopt(modelVersion, java.nio.file.Files.size(artifact.onnxFile()));
      loader.load(modelVersion, artifact);
      LOG.info("{}:{}: ready {} ms since start", name, version,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt));
      inPlace.initialSettled();
      ready.complete(modelVersion);
    } catch (Exception | Error e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage();
      LOG.error("the model could not be loaded: {}", why, e);
      if (modelVersion != null) {
        modelVersion.markFailed(why);
        inPlace.initialSettled();
      }
      ready.completeExceptionally(e);
    }
  }

  /**
   * A pod restarted in the middle of an in-place rollout learns what it should hold from the placement file the
   * operator keeps (docs/pod-contract.md) before it reports ready; orders that come later arrive over /admin.
   */
  private void applyPlacementFile() {
    if (options.placementFile().isEmpty()) {
      return;
    }
    java.nio.file.Path file = options.placementFile().get();
    try {
      if (!java.nio.file.Files.isRegularFile(file) || java.nio.file.Files.size(file) == 0) {
        return;
      }
      inPlace.apply(java.nio.file.Files.readAllBytes(file));
    } catch (IOException | IllegalArgumentException e) {
      LOG.warn("ignoring the placement file {}: {}", file, e.getMessage());
    }
  }

  /** The batch limit, or as many rows as {@link #DEFAULT_REQUEST_VALUES} input values make, whichever is more. */
  static int defaultMaxRows(Signature signature, int maxBatchSize) {
    long rows = DEFAULT_REQUEST_VALUES / signature.valuesPerRow();
    return (int) Math.max(maxBatchSize, Math.min(rows, Integer.MAX_VALUE));
  }

  private static String baseName(ModelArtifact artifact) {
    String file = artifact.onnxFile().getFileName().toString();
    return file.substring(0, file.length() - ".onnx".length());
  }

  public int port() {
    return http.port();
  }

  public boolean ready() {
    return http.ready();
  }

  /** Whether {@link #shutdown()} has begun. */
  public boolean draining() {
    return http.draining();
  }

  /** Completes with the model version once it is ready, or exceptionally when it failed to load. */
  public CompletableFuture<ModelVersion> whenReady() {
    return ready;
  }

  public ServerMetrics metrics() {
    return metrics;
  }

  /**
   * Drains and stops: every answer from then on closes its connection (readiness stays true while it answers); when
   * the server was ready, requests are still served for the drain delay (Kubernetes removes the pod from its
   * Services' endpoints only after it sees it terminating, and keep-alive clients need an answer that tells them
   * to reconnect); then idle connections are closed, bodies still arriving are answered 503, in-flight requests
   * finish (up to the drain timeout), the port closes and the models are freed. Safe to call more than once and
   * from several threads: every call returns once stopped.
   */
  public void shutdown() {
    stop(true);
  }

  /**
   * The same drain, for a process that exits next: the port stays open and the models loaded until the exit
   * releases them. The kubelet probes readiness until the container has stopped, and a probe that came between a
   * closed port and the end of the process found nothing listening: a failed probe, a Warning Event, on a normal
   * stop (seen on 2 of 8 pods removed on the real cluster).
   */
  public void drainForExit() {
    stop(false);
  }

  private void stop(boolean close) {
    if (!stopped.compareAndSet(false, true)) {
      drained.join();
      return;
    }
    try {
      boolean wasReady = http.ready();
      http.beginDrain();
      Duration delay = options.drainDelay();
      if (wasReady && !delay.isZero()) {
        LOG.info("shutting down: every answer now closes its connection; still serving for {} ms before the drain",
            delay.toMillis());
        try {
          hooks.drainPause().pause(delay);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      http.startDraining();
      LOG.info("draining: idle connections closed; answering what is in flight, each answer closing its connection");
      try {
        if (!http.awaitIdle(options.drainTimeout())) {
          LOG.warn("drain timeout {} ms passed with requests still in flight", options.drainTimeout().toMillis());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (close) {
        closeQuietly();
        LOG.info("stopped");
      } else {
        LOG.info("drained; the port closes as the process exits");
      }
    } finally {
      drained.complete(null);
    }
  }

  private static String newToken() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }

  @Override
  public void close() {
    shutdown();
  }

  private void closeQuietly() {
    mirror.close();
    inPlace.close();
    try {
      http.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.debug("closing the HTTP server", e);
    }
    registry.all().forEach(ModelVersion::unload);
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.debug("closing Vert.x", e);
    }
  }
}
