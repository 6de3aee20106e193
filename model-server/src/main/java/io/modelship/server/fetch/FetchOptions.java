package io.modelship.server.fetch;

import java.nio.file.Path;
import java.time.Duration;
import io.modelship.server.cli.Flags;
import io.modelship.server.cli.Flags.Option;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The options of {@code model-server fetch}, as docs/pod-contract.md defines them: every flag also reads an
 * environment variable, and a flag wins over its variable. Parsing never throws anything but a usage failure.
 */
record FetchOptions(
    String source,
    String s3Endpoint,
    String s3Region,
    String mlflowTrackingUri,
    String mlflowAlias,
    String mlflowVersion,
    String sha256,
    String pinnedSha256,
    Path credentialsDir,
    Path modelDir,
    Path terminationLog,
    int parallelism,
    long partSize,
    RetryPolicy retry,
    Duration stallTimeout,
    long progressIntervalMillis) {

  static final List<Option> OPTIONS =
      List.of(
          new Option("--source", "MODELSHIP_SOURCE", null,
              "s3://bucket/key-or-prefix, http(s)://host/path/file, or mlflow://<registered model name>"),
          new Option("--s3-endpoint", "MODELSHIP_S3_ENDPOINT", null,
              "S3-compatible endpoint URL; when set, path-style addressing is used"),
          new Option("--s3-region", "MODELSHIP_S3_REGION", null,
              "S3 region (default us-east-1 with an endpoint, else the AWS SDK's region chain)"),
          new Option("--mlflow-tracking-uri", "MODELSHIP_MLFLOW_TRACKING_URI", null,
              "MLflow tracking server base URL (required for mlflow:// sources)"),
          new Option("--mlflow-alias", "MODELSHIP_MLFLOW_ALIAS", null,
              "registered-model alias (exactly one of alias / version)"),
          new Option("--mlflow-version", "MODELSHIP_MLFLOW_VERSION", null,
              "registered-model version number (exactly one of alias / version)"),
          new Option("--sha256", "MODELSHIP_SHA256", null,
              "expected artifact digest (64 hex digits); a mismatch fails and leaves the model dir untouched"),
          new Option("--pinned-sha256", "MODELSHIP_PINNED_SHA256", null,
              "the digest this revision's first pod verified (set by the operator); other bytes under the same"
                  + " version fail the fetch as an artifact changed in place"),
          new Option("--credentials-dir", "MODELSHIP_CREDENTIALS_DIR", "/etc/modelship/source-credentials",
              "mounted secret: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, MLFLOW_TRACKING_TOKEN"
                  + " or MLFLOW_TRACKING_USERNAME + MLFLOW_TRACKING_PASSWORD; when absent the AWS default chain"
                  + " (IRSA) applies"),
          new Option("--model-dir", "MODELSHIP_MODEL_DIR", "/models", "model directory, written atomically"),
          new Option("--termination-log", "MODELSHIP_TERMINATION_LOG", "/dev/termination-log",
              "where the one-line result JSON goes (the container's termination message)"),
          new Option("--parallelism", "MODELSHIP_FETCH_PARALLELISM", "4",
              "parts and files downloaded at the same time"),
          new Option("--part-size-mib", "MODELSHIP_FETCH_PART_SIZE_MIB", "8",
              "size of the byte ranges a large file is split into"),
          new Option("--max-attempts", "MODELSHIP_FETCH_MAX_ATTEMPTS", "5",
              "attempts per request before a transient error fails the fetch (exit 4)"),
          new Option("--retry-base-delay-ms", "MODELSHIP_FETCH_RETRY_BASE_DELAY_MS", "500",
              "first backoff delay; doubled per attempt, capped at 20 s, with jitter"),
          new Option("--stall-timeout-s", "MODELSHIP_FETCH_STALL_TIMEOUT_S", "60",
              "an HTTP or MLflow download that receives no data this long is abandoned and retried (S3 uses the"
                  + " SDK's 30 s socket timeout)"),
          new Option("--progress-interval-ms", "MODELSHIP_FETCH_PROGRESS_INTERVAL_MS", "5000",
              "how often download progress is logged"));

  private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");

  static String help() {
    return "usage: model-server fetch --source URI [options]\n\n"
        + "Downloads a model artifact into the model directory, verifies its SHA-256 and records it in\n"
        + "<model-dir>/.modelship/artifact.json and the termination message.\n"
        + "Every option also reads the environment variable shown; a flag wins over its variable.\n\n"
        + Flags.describe(OPTIONS)
        + "\nExit codes: 0 success, 2 usage error, 3 permanent failure (not found, access denied, digest mismatch,\n"
        + "MLflow version not READY, alias missing), 4 retryable failure after the in-process retries ran out.\n";
  }

  static boolean wantsHelp(String[] args) {
    return Flags.wantsHelp(args);
  }

  /**
   * Where the termination message goes, read as leniently as possible: used when the options as a whole do not
   * parse, because a usage error must still reach the operator through the termination message.
   */
  static Path terminationLogOf(String[] args, Map<String, String> env) {
    String value = null;
    for (int i = 0; i < args.length; i++) {
      if (args[i].startsWith("--termination-log=")) {
        value = args[i].substring("--termination-log=".length());
      } else if (args[i].equals("--termination-log") && i + 1 < args.length) {
        value = args[i + 1];
      }
    }
    if (value == null || value.isBlank()) {
      value = env.get("MODELSHIP_TERMINATION_LOG");
    }
    return Path.of(value == null || value.isBlank() ? "/dev/termination-log" : value.strip());
  }

  static FetchOptions parse(String[] args, Map<String, String> env) {
    try {
      return validate(Flags.resolve(OPTIONS, args, env));
    } catch (FetchFailure e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw FetchFailure.usage(e.getMessage());
    }
  }

  private static FetchOptions validate(Map<String, String> v) {
    String source = v.get("--source");
    if (source == null || source.isBlank()) {
      throw FetchFailure.usage("--source (MODELSHIP_SOURCE) is required");
    }
    String scheme = source.contains("://") ? source.substring(0, source.indexOf("://")).toLowerCase(Locale.ROOT) : "";
    boolean mlflow = scheme.equals("mlflow");
    if (!List.of("s3", "http", "https", "mlflow").contains(scheme)) {
      throw FetchFailure.usage(
          "--source must start with s3://, http://, https:// or mlflow://, got '" + Redactor.displayUri(source) + "'");
    }
    String alias = v.get("--mlflow-alias");
    String version = v.get("--mlflow-version");
    if (mlflow) {
      if (v.get("--mlflow-tracking-uri") == null) {
        throw FetchFailure.usage("an mlflow:// source needs --mlflow-tracking-uri (MODELSHIP_MLFLOW_TRACKING_URI)");
      }
      if ((alias == null) == (version == null)) {
        throw FetchFailure.usage("an mlflow:// source needs exactly one of --mlflow-alias and --mlflow-version");
      }
      if (version != null && !version.matches("[1-9][0-9]{0,17}")) {
        throw FetchFailure.usage("--mlflow-version must be a version number, got '" + version + "'");
      }
      if (source.length() <= "mlflow://".length()) {
        throw FetchFailure.usage("an mlflow:// source names the registered model: mlflow://<name>");
      }
    } else if (alias != null || version != null) {
      throw FetchFailure.usage("--mlflow-alias and --mlflow-version apply only to mlflow:// sources");
    }
    String sha256 = v.get("--sha256");
    if (sha256 != null) {
      if (!SHA256.matcher(sha256).matches()) {
        throw FetchFailure.usage("--sha256 must be 64 hexadecimal digits");
      }
      sha256 = sha256.toLowerCase(Locale.ROOT);
    }
    String pinned = v.get("--pinned-sha256");
    if (pinned != null && pinned.isBlank()) {
      pinned = null;
    }
    if (pinned != null) {
      if (!SHA256.matcher(pinned).matches()) {
        throw FetchFailure.usage("--pinned-sha256 must be 64 hexadecimal digits");
      }
      pinned = pinned.toLowerCase(Locale.ROOT);
    }
    int parallelism = positiveInt(v, "--parallelism", 64);
    long partSize = positiveInt(v, "--part-size-mib", 1024) * 1024L * 1024L;
    int maxAttempts = positiveInt(v, "--max-attempts", 100);
    int retryBase = nonNegativeInt(v, "--retry-base-delay-ms");
    int progressInterval = positiveInt(v, "--progress-interval-ms", Integer.MAX_VALUE);
    int stallSeconds = positiveInt(v, "--stall-timeout-s", 3600);
    return new FetchOptions(
        source,
        v.get("--s3-endpoint"),
        v.get("--s3-region"),
        v.get("--mlflow-tracking-uri"),
        alias,
        version,
        sha256,
        pinned,
        Path.of(v.get("--credentials-dir")),
        Path.of(v.get("--model-dir")),
        Path.of(v.get("--termination-log")),
        parallelism,
        partSize,
        new RetryPolicy(maxAttempts, Duration.ofMillis(retryBase), Duration.ofSeconds(20)),
        Duration.ofSeconds(stallSeconds),
        progressInterval);
  }

  private static int positiveInt(Map<String, String> v, String flag, int max) {
    int value = nonNegativeInt(v, flag);
    if (value < 1 || value > max) {
      throw FetchFailure.usage(flag + " must be between 1 and " + max);
    }
    return value;
  }

  private static int nonNegativeInt(Map<String, String> v, String flag) {
    try {
      int value = Integer.parseInt(v.get(flag));
      if (value < 0) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw FetchFailure.usage(flag + " must be a whole number, got '" + v.get(flag) + "'");
    }
  }

  boolean isMlflow() {
    return source.regionMatches(true, 0, "mlflow://", 0, "mlflow://".length());
  }

  /** The registered model name of an mlflow:// source, percent-decoded (names may hold spaces). */
  String mlflowModelName() {
    String raw = source.substring("mlflow://".length());
    return java.net.URLDecoder.decode(raw.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
  }
}
