package io.modelship.server.serve;

import io.modelship.server.serve.batch.BatchPolicy;
import io.modelship.server.serve.model.DevicePreference;
import java.nio.file.Path;
import java.time.Duration;
import io.modelship.server.cli.Flags;
import io.modelship.server.cli.Flags.Option;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code serve} role's settings, read from flags and their environment variables exactly as
 * docs/pod-contract.md lists them (a flag wins over its variable). Parsing returns a message for the operator
 * to read; it never throws.
 */
public record ServeOptions(
    Path modelDir,
    Optional<String> modelName,
    Optional<String> modelVersion,
    String host,
    int port,
    Optional<Integer> maxBatchSize,
    Duration maxBatchDelay,
    int warmupIterations,
    DevicePreference device,
    Optional<Path> apiKeyFile,
    long maxBodyBytes,
    Duration drainTimeout,
    int maxQueue,
    Duration drainDelay,
    int warmupHttpRequests,
    Optional<Integer> maxRequestRows,
    Duration idleTimeout,
    Duration bodyTimeout,
    Optional<String> defaultModelVersion,
    Duration maxConnectionAge,
    Optional<Path> adminTokenFile,
    Path versionsDir,
    Path credentialsDir,
    Optional<Long> memoryBudgetBytes,
    Optional<Path> placementFile) {

  private static final List<Option> OPTIONS =
      List.of(
          new Option("--model-dir", "MODELSHIP_MODEL_DIR", "/models",
              "model directory; serves model.onnx or the only *.onnx below it"),
          new Option("--model-name", "MODELSHIP_MODEL_NAME", null,
              "name served (KServe v2 model name); default: the .onnx file's name"),
          new Option("--model-version", "MODELSHIP_MODEL_VERSION", null,
              "version label on metrics and metadata; default: modelVersion from .modelship/artifact.json"),
          new Option("--default-model-version", "MODELSHIP_DEFAULT_MODEL_VERSION", null,
              "version served when neither --model-version nor artifact.json names one (the operator passes the"
                  + " revision); default: unversioned"),
          new Option("--port", "MODELSHIP_PORT", "8080", "port for inference, health and /metrics"),
          new Option("--max-batch-size", "MODELSHIP_MAX_BATCH_SIZE", null,
              "dynamic batching limit in rows; 1 disables batching; default: " + BatchPolicy.CPU_MAX_BATCH_SIZE
                  + " on CPU, " + BatchPolicy.GPU_MAX_BATCH_SIZE + " on a GPU"),
          new Option("--max-batch-delay-ms", "MODELSHIP_MAX_BATCH_DELAY_MS", "2",
              "longest wait for more requests to fill a batch"),
          new Option("--warmup-iterations", "MODELSHIP_WARMUP_ITERATIONS", "10", "inferences before ready"),
          new Option("--warmup-http-requests", "MODELSHIP_WARMUP_HTTP_REQUESTS", "5000",
              "after those, infer requests the server sends itself over loopback HTTP before ready (at most 15 s)"),
          new Option("--max-queue", "MODELSHIP_MAX_QUEUE", "1024",
              "rows that may wait for the model; requests beyond it get 503 with Retry-After"),
          new Option("--device", "MODELSHIP_DEVICE", "auto",
              "auto (CUDA when visible and the GPU build is used), cpu, gpu"),
          new Option("--api-key-file", "MODELSHIP_API_KEY_FILE", null,
              "when set, inference and model metadata need header X-API-Key or Authorization: Bearer"),
          new Option("--admin-token-file", "MODELSHIP_ADMIN_TOKEN_FILE", null,
              "file holding the token the operator presents on /admin (shadow traffic, versions in place); without"
                  + " it /admin does not exist"),
          new Option("--max-body-bytes", "MODELSHIP_MAX_BODY_BYTES", String.valueOf(16 * 1024 * 1024),
              "request body limit; larger bodies get 413"),
          new Option("--host", "MODELSHIP_HOST", "0.0.0.0", "address to listen on"),
          new Option("--drain-timeout-ms", "MODELSHIP_DRAIN_TIMEOUT_MS", "25000",
              "on SIGTERM, longest wait for in-flight requests"),
          new Option("--drain-delay-ms", "MODELSHIP_DRAIN_DELAY_MS", "2000",
              "on SIGTERM, readiness is false but requests are still served this long before the drain"),
          new Option("--max-request-rows", "MODELSHIP_MAX_REQUEST_ROWS", null,
              "rows one request may carry (413 beyond); default: the batch limit or 262144 input values per"
                  + " request, whichever allows more rows"),
          new Option("--idle-timeout-ms", "MODELSHIP_IDLE_TIMEOUT_MS", "60000",
              "a connection without a complete request head for this long is closed (0: never)"),
          new Option("--body-timeout-ms", "MODELSHIP_BODY_TIMEOUT_MS", "30000",
              "a request body that takes longer to arrive gets 408 (0: no limit)"),
          new Option("--max-connection-age-ms", "MODELSHIP_MAX_CONNECTION_AGE_MS", "2000",
              "a keep-alive connection older than this (±25%) is closed after its next answer, so clients reach"
                  + " new pods too (0: never)"),
          new Option("--versions-dir", "MODELSHIP_VERSIONS_DIR", "/tmp/modelship-versions",
              "where versions loaded in place (PUT /admin/versions) are downloaded; each is deleted when unloaded"),
          new Option("--credentials-dir", "MODELSHIP_CREDENTIALS_DIR", "/etc/modelship/source-credentials",
              "the source credentials a version loaded in place is fetched with, as for fetch"),
          new Option("--memory-budget-mib", "MODELSHIP_MEMORY_BUDGET_MIB", null,
              "memory the model versions held may take together (each counted as twice its .onnx file); default:"
                  + " what the container's memory limit, or the host, has available"),
          new Option("--placement-file", "MODELSHIP_PLACEMENT_FILE", null,
              "a placement (the body of PUT /admin/versions) applied at start: the server is ready once the"
                  + " primary it names serves; absent or empty: serve the model directory"));

  /** The outcome of parsing: options, or a message saying what is wrong, or a request for help. */
  public record Parsed(Optional<ServeOptions> options, Optional<String> problem, boolean help) {}

  public static Parsed parse(String[] args, Map<String, String> env) {
    if (Flags.wantsHelp(args)) {
      return new Parsed(Optional.empty(), Optional.empty(), true);
    }
    Map<String, String> values;
    try {
      values = Flags.resolve(OPTIONS, args, env);
    } catch (IllegalArgumentException e) {
      return problem(e.getMessage());
    }
    try {
      Optional<DevicePreference> device = DevicePreference.parse(values.get("--device"));
      if (device.isEmpty()) {
        return problem("--device must be auto, cpu or gpu, was " + values.get("--device"));
      }
      int port = integer(values, "--port", 0, 65535);
      Optional<Integer> maxBatchSize = values.get("--max-batch-size") == null
          ? Optional.empty()
          : Optional.of(integer(values, "--max-batch-size", 1, 65536));
      int delay = integer(values, "--max-batch-delay-ms", 0, 60_000);
      int warmup = integer(values, "--warmup-iterations", 0, 1_000_000);
      long maxBody = integer(values, "--max-body-bytes", 1, Integer.MAX_VALUE);
      int drain = integer(values, "--drain-timeout-ms", 0, 3_600_000);
      int maxQueue = integer(values, "--max-queue", 1, 10_000_000);
      int drainDelay = integer(values, "--drain-delay-ms", 0, 600_000);
      int warmupHttp = integer(values, "--warmup-http-requests", 0, 100_000);
      Optional<Integer> maxRows = values.get("--max-request-rows") == null
          ? Optional.empty()
          : Optional.of(integer(values, "--max-request-rows", 1, Integer.MAX_VALUE));
      int idle = integer(values, "--idle-timeout-ms", 0, 3_600_000);
      int bodyTimeout = integer(values, "--body-timeout-ms", 0, 3_600_000);
      int maxAge = integer(values, "--max-connection-age-ms", 0, 86_400_000);
      Optional<Long> budget = values.get("--memory-budget-mib") == null
          ? Optional.empty()
          : Optional.of(integer(values, "--memory-budget-mib", 1, Integer.MAX_VALUE) * 1024L * 1024L);
      return new Parsed(
          Optional.of(
              new ServeOptions(
                  Path.of(values.get("--model-dir")),
                  Optional.ofNullable(values.get("--model-name")),
                  Optional.ofNullable(values.get("--model-version")),
                  values.get("--host"),
                  port,
                  maxBatchSize,
                  Duration.ofMillis(delay),
                  warmup,
                  device.get(),
                  Optional.ofNullable(values.get("--api-key-file")).map(Path::of),
                  maxBody,
                  Duration.ofMillis(drain),
                  maxQueue,
                  Duration.ofMillis(drainDelay),
                  warmupHttp,
                  maxRows,
                  Duration.ofMillis(idle),
                  Duration.ofMillis(bodyTimeout),
                  Optional.ofNullable(values.get("--default-model-version")),
                  Duration.ofMillis(maxAge),
                  Optional.ofNullable(values.get("--admin-token-file")).map(Path::of),
                  Path.of(values.get("--versions-dir")),
                  Path.of(values.get("--credentials-dir")),
                  budget,
                  Optional.ofNullable(values.get("--placement-file")).map(Path::of))),
          Optional.empty(),
          false);
    } catch (IllegalArgumentException e) {
      return problem(e.getMessage());
    }
  }

  private static int integer(Map<String, String> values, String flag, int min, int max) {
    String text = values.get(flag);
    try {
      int value = Integer.parseInt(text);
      if (value < min || value > max) {
        throw new IllegalArgumentException(flag + " must be between " + min + " and " + max + ", was " + text);
      }
      return value;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " must be a whole number, was " + text, e);
    }
  }

  private static Parsed problem(String message) {
    return new Parsed(Optional.empty(), Optional.of(message), false);
  }

  public static String help() {
    return "usage: model-server serve [options]\n\n"
        + "Serves one ONNX model over KServe v2 REST, DJL Serving's /ping and /predictions, and /metrics.\n"
        + "Every option also reads the environment variable shown; a flag wins over its variable.\n\n"
        + Flags.describe(OPTIONS);
  }

  /** Settings for tests and benchmarks: contract defaults, a model directory and a port. */
  public static ServeOptions defaults(Path modelDir, int port) {
    ServeOptions parsed =
        parse(new String[] {"--model-dir", modelDir.toString(), "--port", String.valueOf(port)}, Map.of())
            .options()
            .orElseThrow();
    return parsed;
  }

  public ServeOptions withModel(String name, String version) {
    return edit(b -> {
      b.modelName = Optional.of(name);
      b.modelVersion = Optional.of(version);
    });
  }

  public ServeOptions withListen(String newHost, int newPort) {
    return edit(b -> {
      b.host = newHost;
      b.port = newPort;
    });
  }

  public ServeOptions withBatching(int size, Duration delay) {
    return edit(b -> {
      b.maxBatchSize = Optional.of(size);
      b.maxBatchDelay = delay;
    });
  }

  public ServeOptions withWarmupIterations(int iterations) {
    return edit(b -> b.warmupIterations = iterations);
  }

  public ServeOptions withWarmupHttpRequests(int requests) {
    return edit(b -> b.warmupHttpRequests = requests);
  }

  public ServeOptions withApiKeyFile(Path file) {
    return edit(b -> b.apiKeyFile = Optional.of(file));
  }

  public ServeOptions withMaxBodyBytes(long bytes) {
    return edit(b -> b.maxBodyBytes = bytes);
  }

  public ServeOptions withMaxQueue(int rows) {
    return edit(b -> b.maxQueue = rows);
  }

  public ServeOptions withDrainDelay(Duration delay) {
    return edit(b -> b.drainDelay = delay);
  }

  public ServeOptions withDrainTimeout(Duration timeout) {
    return edit(b -> b.drainTimeout = timeout);
  }

  public ServeOptions withMaxRequestRows(int rows) {
    return edit(b -> b.maxRequestRows = Optional.of(rows));
  }

  public ServeOptions withMaxConnectionAge(Duration age) {
    return edit(b -> b.maxConnectionAge = age);
  }

  public ServeOptions withDefaultModelVersion(String version) {
    return edit(b -> b.defaultModelVersion = Optional.of(version));
  }

  public ServeOptions withAdminTokenFile(Path file) {
    return edit(b -> b.adminTokenFile = Optional.of(file));
  }

  public ServeOptions withVersionsDir(Path dir) {
    return edit(b -> b.versionsDir = dir);
  }

  public ServeOptions withCredentialsDir(Path dir) {
    return edit(b -> b.credentialsDir = dir);
  }

  public ServeOptions withMemoryBudget(long bytes) {
    return edit(b -> b.memoryBudgetBytes = Optional.of(bytes));
  }

  public ServeOptions withPlacementFile(Path file) {
    return edit(b -> b.placementFile = Optional.of(file));
  }

  public ServeOptions withTimeouts(Duration idle, Duration body) {
    return edit(b -> {
      b.idleTimeout = idle;
      b.bodyTimeout = body;
    });
  }

  private ServeOptions edit(java.util.function.Consumer<Builder> change) {
    Builder builder = new Builder(this);
    change.accept(builder);
    return builder.build();
  }

  /** A copy of some options with a few changed, for the {@code with...} methods tests and benchmarks use. */
  private static final class Builder {
    Path modelDir;
    Optional<String> modelName;
    Optional<String> modelVersion;
    String host;
    int port;
    Optional<Integer> maxBatchSize;
    Duration maxBatchDelay;
    int warmupIterations;
    DevicePreference device;
    Optional<Path> apiKeyFile;
    long maxBodyBytes;
    Duration drainTimeout;
    int maxQueue;
    Duration drainDelay;
    int warmupHttpRequests;
    Optional<Integer> maxRequestRows;
    Duration idleTimeout;
    Duration bodyTimeout;
    Optional<String> defaultModelVersion;
    Duration maxConnectionAge;
    Optional<Path> adminTokenFile;
    Path versionsDir;
    Path credentialsDir;
    Optional<Long> memoryBudgetBytes;
    Optional<Path> placementFile;

    Builder(ServeOptions o) {
      modelDir = o.modelDir;
      modelName = o.modelName;
      modelVersion = o.modelVersion;
      host = o.host;
      port = o.port;
      maxBatchSize = o.maxBatchSize;
      maxBatchDelay = o.maxBatchDelay;
      warmupIterations = o.warmupIterations;
      device = o.device;
      apiKeyFile = o.apiKeyFile;
      maxBodyBytes = o.maxBodyBytes;
      drainTimeout = o.drainTimeout;
      maxQueue = o.maxQueue;
      drainDelay = o.drainDelay;
      warmupHttpRequests = o.warmupHttpRequests;
      maxRequestRows = o.maxRequestRows;
      idleTimeout = o.idleTimeout;
      bodyTimeout = o.bodyTimeout;
      defaultModelVersion = o.defaultModelVersion;
      maxConnectionAge = o.maxConnectionAge;
      adminTokenFile = o.adminTokenFile;
      versionsDir = o.versionsDir;
      credentialsDir = o.credentialsDir;
      memoryBudgetBytes = o.memoryBudgetBytes;
      placementFile = o.placementFile;
    }

    ServeOptions build() {
      return new ServeOptions(modelDir, modelName, modelVersion, host, port, maxBatchSize, maxBatchDelay,
          warmupIterations, device, apiKeyFile, maxBodyBytes, drainTimeout, maxQueue, drainDelay, warmupHttpRequests,
          maxRequestRows, idleTimeout, bodyTimeout, defaultModelVersion, maxConnectionAge, adminTokenFile, versionsDir,
          credentialsDir, memoryBudgetBytes, placementFile);
    }
  }
}
