package io.modelship.server.fetch;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code model-server fetch}: the init container that puts one verified model artifact into the model directory.
 * Resolves the source to a store, downloads into staging, computes the contract's digest, checks it against
 * {@code --sha256}, moves the artifact into place and records the result. Returns the contract's exit code and
 * never throws.
 *
 * <p>Everything it prints goes through one {@link Redactor}; no secret, token or presigned query string may reach a
 * log line, the termination message or {@code artifact.json}.
 */
public final class FetchCommand {

  private static final Logger log = LoggerFactory.getLogger(FetchCommand.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private FetchCommand() {}

  public static int run(String[] args) {
    return run(args, System.getenv());
  }

  /** As {@link #run(String[])}, reading variables from {@code env} (tests cannot set a process's environment). */
  static int run(String[] args, Map<String, String> env) {
    if (FetchOptions.wantsHelp(args)) {
      System.out.print(FetchOptions.help());
      return 0;
    }
    quietWireLogging();
    Redactor redactor = new Redactor();
    FetchOptions options;
    try {
      options = FetchOptions.parse(args, env);
    } catch (FetchFailure usage) {
      String message = redactor.redact(usage.getMessage());
      System.err.println("model-server fetch: " + message + " (see --help)");
      // The pod contract: every failure, a usage error too, leaves its one line in the termination message.
      return fail(FetchOptions.terminationLogOf(args, env), redactor, usage.kind().exitCode(), message);
    }
    try {
      FetchResult result = fetch(options, redactor);
      String json = redactor.redact(result.toJson());
      writeTerminationMessage(options.terminationLog(), json);
      log.info("fetched {} ({} files, {} bytes) into {}, sha256 {}", result.resolvedUri(), result.files(),
          result.bytes(), options.modelDir(), result.sha256());
      return 0;
    } catch (FetchFailure failure) {
      return fail(options.terminationLog(), redactor, failure.kind().exitCode(), failure.getMessage());
    } catch (RuntimeException e) {
      // A bug, not a condition we know: the class is safe to show, a foreign message might not be.
      return fail(options.terminationLog(), redactor, FetchFailure.Kind.PERMANENT.exitCode(),
          "unexpected error " + e.getClass().getName() + " (a bug in model-server fetch)");
    }
  }

  private static int fail(Path terminationLog, Redactor redactor, int exitCode, String message) {
    String shown = redactor.redact(message);
    log.error("fetch failed (exit {}): {}", exitCode, shown);
    Map<String, Object> error = new java.util.LinkedHashMap<>();
    error.put("error", shown);
    error.put("exitCode", exitCode);
    try {
      // The contract's failure shape, which the operator turns into the ArtifactResolved condition.
      writeTerminationMessage(terminationLog, JSON.writeValueAsString(error));
    } catch (IOException e) {
      log.warn("could not encode the failure for the termination message");
    }
    return exitCode;
  }

  static FetchResult fetch(FetchOptions options, Redactor redactor) {
    SourceCredentials credentials = new SourceCredentials(options.credentialsDir(), redactor);
    String source = Redactor.displayUri(options.source());
    log.info("fetch {} into {}", redactor.redact(source), options.modelDir());
    String modelVersion = null;
    ArtifactStore store;
    if (options.isMlflow()) {
      HttpTransport http =
          new HttpTransport(
              credentials.mlflowAuthorization(), credentials.describeForMlflow(), options.stallTimeout());
      MlflowRegistry registry = new MlflowRegistry(options.mlflowTrackingUri(), http, options.retry());
      String name = options.mlflowModelName();
      MlflowRegistry.ResolvedVersion version =
          options.mlflowAlias() != null
              ? registry.resolveAlias(name, options.mlflowAlias())
              : registry.resolveVersion(name, options.mlflowVersion());
      modelVersion = version.version();
      log.info("MLflow model '{}' version {} is at {}", name, modelVersion,
          redactor.redact(Redactor.displayUri(version.downloadUri())));
      store = storeFor(version.downloadUri(), options, credentials, http, registry.trackingUri());
    } else {
      store = storeFor(options.source(), options, credentials, null, null);
    }
    try (store) {
      return download(store, options, source, modelVersion);
    }
  }

  /** Picks the store for a URI: the source itself, or what an MLflow version resolved to. */
  static ArtifactStore storeFor(
      String uri, FetchOptions options, SourceCredentials credentials, HttpTransport mlflowHttp, String trackingUri) {
    String lower = uri.toLowerCase(java.util.Locale.ROOT);
    if (lower.startsWith("s3://")) {
      return S3ArtifactStore.forUri(
          uri, new S3ArtifactStore.S3Settings(options.s3Endpoint(), options.s3Region()), credentials,
          options.retry());
    }
    if (lower.startsWith("mlflow-artifacts:")) {
      return new MlflowArtifactStore(uri, trackingUri, mlflowHttp, options.retry());
    }
    if (lower.startsWith("http://") || lower.startsWith("https://")) {
      // Plain sources carry no auth header; an MLflow-resolved URL to the tracking server itself does.
      HttpTransport http =
          mlflowHttp != null && trackingUri != null && uri.startsWith(trackingUri)
              ? mlflowHttp
              : new HttpTransport(
                  java.util.Optional.empty(),
                  "the URL (is it public, or has its presigned link expired?)",
                  options.stallTimeout());
      return new HttpArtifactStore(URI.create(uri), http, options.retry());
    }
    if (lower.startsWith("file:")) {
      return new LocalArtifactStore(Path.of(URI.create(uri)), uri);
    }
    if (uri.startsWith("/")) {
      return new LocalArtifactStore(Path.of(uri), uri);
    }
    throw FetchFailure.permanent(
        "cannot download from '" + Redactor.displayUri(uri) + "': supported locations are s3://, mlflow-artifacts:/,"
            + " http(s):// and local paths");
  }

  private static FetchResult download(ArtifactStore store, FetchOptions options, String source, String modelVersion) {
    List<ArtifactFile> files = store.list();
    boolean singleFile = store.isSingleFile();
    long total = files.stream().allMatch(ArtifactFile::sizeKnown)
        ? files.stream().mapToLong(ArtifactFile::size).sum() : -1;
    log.info("{}: {} file(s), {}", store.displayUri(), files.size(),
        total >= 0 ? String.format(java.util.Locale.ROOT, "%.1f MB", total / 1048576.0) : "size unknown");

    ModelDirectory modelDir = ModelDirectory.at(options.modelDir());
    Path staging = modelDir.stage();
    boolean committed = false;
    try {
      ArtifactDownloader downloader =
          new ArtifactDownloader(options.parallelism(), options.partSize(), options.retry());
      try (Progress progress = new Progress(total, options.progressIntervalMillis())) {
        downloader.download(store, files, staging, progress);
        log.info("downloaded {}: {}", store.displayUri(), progress.describe());
      }
      ArtifactDigest.Result digest;
      try {
        digest = singleFile
            ? ArtifactDigest.ofFile(staging.resolve(files.get(0).relativePath()))
            : ArtifactDigest.ofDirectory(staging, ModelDirectory.METADATA_DIR);
      } catch (IOException e) {
        throw ArtifactDownloader.localFailure("cannot read back the downloaded artifact", e);
      }
      if (options.sha256() != null && !options.sha256().equals(digest.sha256())) {
        throw FetchFailure.permanent(
            "digest mismatch for " + store.displayUri() + ": expected sha256 " + options.sha256() + ", got "
                + digest.sha256() + " (" + digest.files() + " file(s), " + digest.bytes()
                + " bytes); the model directory was left as it was");
      }
      if (options.pinnedSha256() != null && !options.pinnedSha256().equals(digest.sha256())) {
        throw FetchFailure.permanent(
            "the artifact changed under the same version: " + store.displayUri()
                + (modelVersion != null ? " (version " + modelVersion + ")" : "") + " now has sha256 "
                + digest.sha256() + ", but this revision's first pod verified sha256 " + options.pinnedSha256()
                + "; publish changed bytes as a new version instead of overwriting one");
      }
      FetchResult result =
          new FetchResult(source, store.displayUri(), modelVersion, digest.sha256(), digest.bytes(), digest.files());
      modelDir.commit(staging, result.toJson() + "\n");
      committed = true;
      return result;
    } finally {
      if (!committed) {
        modelDir.discard(staging);
      }
    }
  }

  private static void writeTerminationMessage(Path file, String line) {
    try {
      Files.writeString(file, line, StandardCharsets.UTF_8);
    } catch (IOException | UnsupportedOperationException e) {
      // Outside Kubernetes there may be no termination log; the result is in artifact.json all the same.
      log.warn("could not write the termination message to {}: {}", file, e.getClass().getSimpleName());
    }
  }

  /**
   * HTTP wire and SDK debug logs print request headers, among them signed Authorization headers and session
   * tokens. Whatever logging configuration the image ships, they stay at WARN in fetch.
   */
  private static void quietWireLogging() {
    for (String name :
        new String[] {"org.apache.http", "software.amazon.awssdk", "io.netty", "jdk.internal.httpclient"}) {
      org.slf4j.Logger logger = LoggerFactory.getLogger(name);
      if (logger instanceof ch.qos.logback.classic.Logger logback
          && (logback.getLevel() == null || !logback.getLevel().isGreaterOrEqual(Level.WARN))) {
        logback.setLevel(Level.WARN);
      }
    }
  }
}
