package io.modelship.server.serve.versions;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelship.server.fetch.FetchFailure;
import io.modelship.server.fetch.FetchResult;
import io.modelship.server.fetch.Fetcher;
import io.modelship.server.serve.http.VersionsAdmin;
import io.modelship.server.serve.metrics.ServerMetrics;
import io.modelship.server.serve.model.ModelArtifact;
import io.modelship.server.serve.registry.ModelRegistry;
import io.modelship.server.serve.registry.ModelRegistry.Split;
import io.modelship.server.serve.registry.ModelState;
import io.modelship.server.serve.registry.ModelVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Model versions loaded and unloaded inside the running server (in-place rollouts, docs/pod-contract.md). It
 * takes the operator's {@link Placement}, fetches each version it does not hold with the {@code fetch} role's code
 * into {@code --versions-dir}, checks that it fits, loads and warms it up beside the versions that serve, and only
 * then routes to it: the candidate takes its weight's share of unversioned requests, a new primary takes all of
 * them. A version the placement no longer names stops taking requests, finishes those in flight, and is unloaded
 * (its ONNX Runtime session closed) and deleted. A version that fails to fetch, fit or load is never routed to, and
 * is not tried again until a placement names it anew after leaving it out.
 */
public final class InPlaceVersions implements VersionsAdmin, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InPlaceVersions.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Loads and warms up a registered version from its directory; on return it is ready. */
  public interface Loader {
    void load(ModelVersion version, ModelArtifact artifact) throws Exception;
  }

  /** Where one version is, as {@code GET /admin/versions} shows it. */
  public enum Phase {
    FETCHING,
    LOADING,
    WARMING_UP,
    READY,
    FAILED,
    UNLOADING
  }

  private final ModelRegistry registry;
  private final ServerMetrics metrics;
  private final Loader loader;
  private final Path versionsDir;
  private final Path credentialsDir;
  private final Duration drainTimeout;
  private final MemoryFit fit;
  private final ExecutorService loads = Executors.newSingleThreadExecutor(daemon("version-loader"));
  private final ExecutorService unloads = Executors.newSingleThreadExecutor(daemon("version-unloader"));

  // Guarded by this.
  private String model;
  private Placement placement;
  private final Map<String, Held> held = new LinkedHashMap<>();
  private boolean closed;

  public InPlaceVersions(ModelRegistry registry, ServerMetrics metrics, Loader loader, Path versionsDir,
      Path credentialsDir, Duration drainTimeout, Optional<Long> memoryBudget) {
    this.registry = registry;
    this.metrics = metrics;
    this.loader = loader;
    this.versionsDir = versionsDir;
    this.credentialsDir = credentialsDir;
    this.drainTimeout = drainTimeout;
    this.fit = new MemoryFit(memoryBudget);
  }

  /** One version this server holds or is bringing in. */
  private static final class Held {
    final String version;
    final Optional<Path> dir;
    volatile Phase phase;
    volatile ModelVersion modelVersion;
    volatile long modelBytes;
    volatile String sha256;
    volatile String reason;
    volatile String message;

    Held(String version, Optional<Path> dir, Phase phase) {
      this.version = version;
      this.dir = dir;
      this.phase = phase;
    }

    Phase phase() {
      ModelVersion loaded = modelVersion;
      if (phase == Phase.LOADING && loaded != null && loaded.state() == ModelState.WARMING_UP) {
        return Phase.WARMING_UP;
      }
      return phase;
    }
  }

  /**
   * The version the server loaded from its model directory at start: registered already, and loaded by the
   * caller. From now on versions are placed beside it.
   */
  public synchronized void adopt(ModelVersion initial, long modelBytes) {
    model = initial.name();
    Held first = new Held(initial.version(), Optional.empty(), Phase.LOADING);
    first.modelVersion = initial;
    first.modelBytes = modelBytes;
    held.put(initial.version(), first);
    if (placement != null && !placement.primary().version().equals(initial.version())) {
      // Restarted mid-rollout: not ready until the primary the placement names serves.
      registry.settling(true);
      LOG.info("the placement at start names primary {}, not {} from the model directory: ready once it serves",
          placement.primary().version(), initial.version());
    }
    converge();
  }

  /** The version loaded at start is ready (or failed: then it is what the placement must replace). */
  public void initialSettled() {
    synchronized (this) {
      held.values().stream().filter(h -> h.dir.isEmpty()).forEach(h -> h.phase =
          h.modelVersion != null && h.modelVersion.ready() ? Phase.READY : Phase.FAILED);
    }
    converge();
  }

  @Override
  public byte[] apply(byte[] body) {
    Placement next = Placement.parse(body);
    synchronized (this) {
      if (closed) {
        throw new IllegalArgumentException("the server is shutting down");
      }
      // A version named again after it was left out gets a new try; one still named keeps its failure.
      held.values().removeIf(h -> h.phase == Phase.FAILED && h.dir.isPresent() && next.find(h.version).isEmpty());
      if (!next.equals(placement)) {
        LOG.info("placement: primary {}, candidate {} at {} %", next.primary().version(),
            next.candidate().map(Placement.Source::version).orElse("none"), next.weight());
      }
      placement = next;
    }
    converge();
    return describe();
  }

  /** Starts what the placement still needs, routes what is ready, and retires what it no longer names. */
  private synchronized void converge() {
    if (placement == null || model == null || closed) {
      return;
    }
    List<Placement.Source> wanted = new ArrayList<>(List.of(placement.primary()));
    placement.candidate().ifPresent(wanted::add);
    for (Placement.Source source : wanted) {
      if (held.containsKey(source.version())) {
        continue;
      }
      Held coming = new Held(source.version(), Optional.of(versionsDir.resolve(source.version())), Phase.FETCHING);
      held.put(source.version(), coming);
      if (source.source().isEmpty()) {
        fail(coming, "NoSource", "version " + source.version() + " is not held here and the placement gives no"
            + " source to fetch it from");
        continue;
      }
      loads.execute(() -> bringIn(coming, source));
    }
    route();
  }

  private void route() {
    Split current = registry.split(model).orElseThrow();
    String ordered = placement.primary().version();
    Held orderedPrimary = held.get(ordered);
    boolean orderedServes = orderedPrimary != null && orderedPrimary.phase == Phase.READY;
    String primary = orderedServes ? ordered : current.primary();
    Optional<String> candidate = placement.candidate().map(Placement.Source::version)
        .filter(v -> !v.equals(primary))
        .filter(v -> held.containsKey(v) && held.get(v).phase == Phase.READY);
    Split split = new Split(primary, candidate, candidate.isPresent() ? placement.weight() : 0);
    if (!split.equals(current)) {
      registry.route(model, split);
      LOG.info("routing {}: primary {}, candidate {} at {} %", model, split.primary(),
          split.candidate().orElse("none"), split.weight());
    }
    if (registry.settling() && (orderedServes || orderedPrimary == null || orderedPrimary.phase == Phase.FAILED)) {
      registry.settling(false);
      if (!orderedServes) {
        LOG.warn("the placement's primary {} cannot serve; serving {}", ordered, primary);
      }
    }
    if (!orderedServes) {
      return;
    }
    for (Held h : List.copyOf(held.values())) {
      if (placement.find(h.version).isEmpty() && (h.phase == Phase.READY || h.phase == Phase.FAILED)) {
        retire(h);
      }
    }
  }

  private void bringIn(Held coming, Placement.Source source) {
    String version = source.version();
    try {
      Path dir = coming.dir.orElseThrow();
      deleteQuietly(dir);
      Files.createDirectories(versionsDir);
      LOG.info("version {}: fetching", version);
      FetchResult fetched;
      try {
        fetched = Fetcher.fetch(source.fetchArgs(dir, credentialsDir));
      } catch (FetchFailure failure) {
        fail(coming, "FetchFailed", failure.getMessage());
        return;
      }
      coming.sha256 = fetched.sha256();
      ModelArtifact artifact = ModelArtifact.locate(dir);
      long bytes = Files.size(artifact.onnxFile());
      coming.modelBytes = bytes;
      ModelVersion modelVersion;
      synchronized (this) {
        if (closed || placement == null || placement.find(version).isEmpty()) {
          LOG.info("version {}: no longer placed; not loaded", version);
          held.remove(version);
          deleteQuietly(dir);
          return;
        }
        long others = held.values().stream().filter(h -> h != coming && h.phase != Phase.FAILED)
            .mapToLong(h -> h.modelBytes).sum();
        boolean gpu = held.values().stream().map(h -> h.modelVersion).filter(v -> v != null)
            .anyMatch(v -> v.executionProvider().filter(p -> p.startsWith("CUDA")).isPresent());
        Optional<String> refusal = fit.refusal(version, bytes, others, gpu);
        if (refusal.isPresent()) {
          fail(coming, "DoesNotFit", refusal.get());
          return;
        }
        modelVersion = new ModelVersion(model, version, metrics.model(model, version));
        registry.add(modelVersion);
        coming.modelVersion = modelVersion;
        coming.phase = Phase.LOADING;
      }
      LOG.info("version {}: loading beside {}", version, registry.split(model).map(Split::primary).orElse("?"));
      try {
        loader.load(modelVersion, artifact);
      } catch (Exception | Error e) {
        String why = e.getMessage() == null ? e.toString() : e.getMessage();
        modelVersion.markFailed(why);
        modelVersion.retire();
        modelVersion.unload();
        synchronized (this) {
          registry.remove(modelVersion);
          metrics.forget(model, version);
        }
        fail(coming, "LoadFailed", "version " + version + " could not be loaded: " + why);
        return;
      }
      synchronized (this) {
        coming.phase = Phase.READY;
      }
      LOG.info("version {}: ready beside {}", version, registry.split(model).map(Split::primary).orElse("?"));
      converge();
    } catch (IOException | RuntimeException e) {
      fail(coming, "LoadFailed", "version " + version + ": " + (e.getMessage() == null ? e.toString()
          : e.getMessage()));
    }
  }

  private void fail(Held h, String reason, String message) {
    synchronized (this) {
      h.reason = reason;
      h.message = message;
      h.phase = Phase.FAILED;
    }
    LOG.warn("version {}: {}: {}", h.version, reason, message);
    h.dir.ifPresent(InPlaceVersions::deleteQuietly);
    converge();
  }

  /** Takes no new requests from now on; in the background, waits for those in flight, then unloads. */
  private void retire(Held h) {
    ModelVersion leaving = h.modelVersion;
    h.phase = Phase.UNLOADING;
    if (leaving == null || leaving.state() == ModelState.FAILED_TO_LOAD && h.dir.isPresent()) {
      held.remove(h.version);
      return;
    }
    leaving.retire();
    LOG.info("version {}: retiring; {} request(s) in flight", h.version, leaving.inFlight());
    unloads.execute(() -> {
      try {
        if (!leaving.awaitIdle(drainTimeout)) {
          LOG.warn("version {}: requests still in flight after {} ms; unloading", h.version,
              drainTimeout.toMillis());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      leaving.unload();
      synchronized (this) {
        registry.remove(leaving);
        held.remove(h.version, h);
        metrics.forget(leaving.name(), leaving.version());
      }
      h.dir.ifPresent(InPlaceVersions::deleteQuietly);
      LOG.info("version {}: unloaded", h.version);
      converge();
    });
  }

  @Override
  public byte[] describe() {
    ObjectNode json = JSON.createObjectNode();
    synchronized (this) {
      json.put("model", model);
      Optional<Split> split = model == null ? Optional.empty() : registry.split(model);
      json.put("primary", split.map(Split::primary).orElse(null));
      json.put("candidate", split.flatMap(Split::candidate).orElse(null));
      json.put("weight", split.map(Split::weight).orElse(0));
      json.put("settling", registry.settling());
      if (placement != null) {
        ObjectNode placed = json.putObject("placement");
        placed.put("primary", placement.primary().version());
        placed.put("candidate", placement.candidate().map(Placement.Source::version).orElse(null));
        placed.put("weight", placement.weight());
      }
      ArrayNode versions = json.putArray("versions");
      for (Held h : held.values()) {
        ObjectNode v = versions.addObject();
        v.put("version", h.version);
        v.put("state", h.phase().name());
        if (h.reason != null) {
          v.put("reason", h.reason);
          v.put("message", h.message);
        }
        if (h.sha256 != null) {
          v.put("sha256", h.sha256);
        }
        if (h.modelBytes > 0) {
          v.put("modelBytes", h.modelBytes);
        }
        ModelVersion loaded = h.modelVersion;
        if (loaded != null) {
          v.put("inFlight", loaded.inFlight());
        }
      }
    }
    try {
      return JSON.writeValueAsBytes(json);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      closed = true;
    }
    loads.shutdownNow();
    unloads.shutdownNow();
  }

  private static void deleteQuietly(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      LOG.warn("cannot delete {}: {}", dir, e.getMessage());
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
  }
}
