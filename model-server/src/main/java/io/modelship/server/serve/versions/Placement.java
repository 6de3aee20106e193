package io.modelship.server.serve.versions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the operator tells a server to hold (docs/pod-contract.md, {@code PUT /admin/versions}): a primary version
 * that answers unversioned requests, optionally a candidate beside it that takes {@code weight} percent of them
 * once ready, and where each comes from. Versions the server holds that the placement does not name are unloaded
 * once the primary serves.
 *
 * <pre>{"primary": {"version": "3f2a1b9c0d"}, "candidate": {"version": "77c0e4d2aa", "source": "s3://models/iris/2",
 *  "s3Endpoint": "http://minio.ml:9000", "sha256": "…"}, "weight": 10}</pre>
 */
public record Placement(Source primary, Optional<Source> candidate, int weight) {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");

  /**
   * One version and where to fetch it, in the terms of the {@code fetch} role's flags. No credentials: those are
   * the pod's own ({@code --credentials-dir}). A version the server already holds needs no source.
   */
  public record Source(
      String version,
      Optional<String> source,
      Optional<String> s3Endpoint,
      Optional<String> s3Region,
      Optional<String> mlflowTrackingUri,
      Optional<String> mlflowVersion,
      Optional<String> sha256,
      Optional<String> pinnedSha256) {

    /** The {@code fetch} flags that download this version into {@code dir}. */
    List<String> fetchArgs(Path dir, Path credentialsDir) {
      List<String> args = new ArrayList<>(List.of("--source", source.orElseThrow(), "--model-dir", dir.toString(),
          "--credentials-dir", credentialsDir.toString(), "--progress-interval-ms", "10000"));
      s3Endpoint.ifPresent(v -> args.addAll(List.of("--s3-endpoint", v)));
      s3Region.ifPresent(v -> args.addAll(List.of("--s3-region", v)));
      mlflowTrackingUri.ifPresent(v -> args.addAll(List.of("--mlflow-tracking-uri", v)));
      mlflowVersion.ifPresent(v -> args.addAll(List.of("--mlflow-version", v)));
      sha256.ifPresent(v -> args.addAll(List.of("--sha256", v)));
      pinnedSha256.ifPresent(v -> args.addAll(List.of("--pinned-sha256", v)));
      return args;
    }
  }

  /** @throws IllegalArgumentException with a message for the caller (a 400) */
  public static Placement parse(byte[] body) {
    JsonNode json;
    try {
      json = JSON.readTree(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("the body is not JSON");
    }
    if (json == null || !json.isObject()) {
      throw new IllegalArgumentException("the body must be a JSON object with primary, and optionally candidate"
          + " and weight");
    }
    Source primary = source(json.get("primary"), "primary");
    Optional<Source> candidate = json.hasNonNull("candidate")
        ? Optional.of(source(json.get("candidate"), "candidate"))
        : Optional.empty();
    JsonNode weightNode = json.path("weight");
    int weight = 0;
    if (!weightNode.isMissingNode() && !weightNode.isNull()) {
      if (!weightNode.canConvertToInt() || !weightNode.isIntegralNumber() || weightNode.asInt() < 0
          || weightNode.asInt() > 100) {
        throw new IllegalArgumentException("weight must be a whole number of percent from 0 to 100, was "
            + weightNode);
      }
      weight = weightNode.asInt();
    }
    if (candidate.isPresent() && candidate.get().version().equals(primary.version())) {
      throw new IllegalArgumentException("candidate and primary are the same version, " + primary.version());
    }
    if (candidate.isEmpty() && weight != 0) {
      throw new IllegalArgumentException("weight " + weight + " without a candidate: give candidate, or weight 0");
    }
    return new Placement(primary, candidate, weight);
  }

  private static Source source(JsonNode node, String field) {
    if (node == null || !node.isObject()) {
      throw new IllegalArgumentException(field + " must be an object with at least version");
    }
    String version = node.path("version").asText("");
    if (!VERSION.matcher(version).matches()) {
      throw new IllegalArgumentException(field + ".version must be 1 to 128 letters, digits, '.', '_' or '-',"
          + " starting with a letter or digit, was '" + version + "'");
    }
    Optional<String> sha256 = text(node, "sha256", field);
    Optional<String> pinned = text(node, "pinnedSha256", field);
    for (var digest : List.of(sha256, pinned)) {
      if (digest.isPresent() && !SHA256.matcher(digest.get()).matches()) {
        throw new IllegalArgumentException(field + ": a sha256 must be 64 hexadecimal digits");
      }
    }
    Optional<String> source = text(node, "source", field);
    Optional<String> mlflowVersion = text(node, "mlflowVersion", field);
    Optional<String> trackingUri = text(node, "mlflowTrackingUri", field);
    if (source.isPresent() && source.get().regionMatches(true, 0, "mlflow://", 0, 9)
        && (mlflowVersion.isEmpty() || trackingUri.isEmpty())) {
      throw new IllegalArgumentException(field + ": an mlflow:// source needs mlflowVersion and mlflowTrackingUri"
          + " (a placement names versions, never aliases)");
    }
    return new Source(version, source, text(node, "s3Endpoint", field), text(node, "s3Region", field), trackingUri,
        mlflowVersion, sha256, pinned);
  }

  private static Optional<String> text(JsonNode node, String name, String field) {
    JsonNode value = node.get(name);
    if (value == null || value.isNull()) {
      return Optional.empty();
    }
    if (!value.isTextual() || value.asText().isBlank() || value.asText().length() > 4096) {
      throw new IllegalArgumentException(field + "." + name + " must be a non-empty string");
    }
    return Optional.of(value.asText());
  }

  Optional<Source> find(String version) {
    if (primary.version().equals(version)) {
      return Optional.of(primary);
    }
    return candidate.filter(c -> c.version().equals(version));
  }
}
