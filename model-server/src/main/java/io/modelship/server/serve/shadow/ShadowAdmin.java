package io.modelship.server.serve.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * The body of {@code PUT /admin/shadow} and of the answers of {@code /admin/shadow} (docs/pod-contract.md):
 * {@code {"target": "http://host:port", "share": 1.0, "version": "…", "output": "…", "tolerance": 0.001,
 * "timeoutMs": 2000, "maxPerSecond": 100}}; only target and version are required.
 */
public final class ShadowAdmin {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final double DEFAULT_TOLERANCE = 1e-3;
  static final long DEFAULT_TIMEOUT_MS = 2000;
  static final int DEFAULT_MAX_PER_SECOND = 100;

  private ShadowAdmin() {}

  /** @throws IllegalArgumentException with a message for the caller (a 400) */
  public static ShadowMirror.Target parse(byte[] body) {
    if (body == null) {
      throw new IllegalArgumentException("the body is too large");
    }
    JsonNode json;
    try {
      json = JSON.readTree(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("the body is not JSON");
    }
    if (json == null || !json.isObject()) {
      throw new IllegalArgumentException("the body must be a JSON object with target and version");
    }
    String target = json.path("target").asText("");
    URI endpoint;
    try {
      endpoint = URI.create(target);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("target must be an http(s) URL, was '" + target + "'");
    }
    if (!("http".equals(endpoint.getScheme()) || "https".equals(endpoint.getScheme())) || endpoint.getHost() == null) {
      throw new IllegalArgumentException("target must be an http(s) URL such as http://iris-3f2a1b.ml:8080, was '"
          + target + "'");
    }
    String version = json.path("version").asText("");
    if (version.isBlank() || version.length() > 128) {
      throw new IllegalArgumentException("version (the target's model version, 1 to 128 characters) is required");
    }
    double share = json.path("share").asDouble(1.0);
    if (!(share > 0 && share <= 1)) {
      throw new IllegalArgumentException("share must be above 0 and at most 1, was " + json.path("share"));
    }
    double tolerance = json.path("tolerance").asDouble(DEFAULT_TOLERANCE);
    if (!(tolerance >= 0)) {
      throw new IllegalArgumentException("tolerance must be 0 or more");
    }
    long timeoutMs = json.path("timeoutMs").asLong(DEFAULT_TIMEOUT_MS);
    if (timeoutMs < 1 || timeoutMs > 60_000) {
      throw new IllegalArgumentException("timeoutMs must be 1 to 60000");
    }
    long maxPerSecond = json.path("maxPerSecond").asLong(DEFAULT_MAX_PER_SECOND);
    if (maxPerSecond < 1 || maxPerSecond > 100_000) {
      throw new IllegalArgumentException("maxPerSecond must be 1 to 100000");
    }
    Optional<String> output = json.hasNonNull("output") ? Optional.of(json.get("output").asText()) : Optional.empty();
    return new ShadowMirror.Target(endpoint, share, version, output, tolerance, Duration.ofMillis(timeoutMs),
        (int) maxPerSecond);
  }

  public static byte[] describe(Optional<ShadowMirror.Target> current) {
    ObjectNode json = JSON.createObjectNode();
    json.put("enabled", current.isPresent());
    current.ifPresent(t -> {
      json.put("target", t.endpoint().toString());
      json.put("share", t.share());
      json.put("version", t.version());
      t.output().ifPresent(o -> json.put("output", o));
      json.put("tolerance", t.tolerance());
      json.put("timeoutMs", t.timeout().toMillis());
      json.put("maxPerSecond", t.maxPerSecond());
    });
    try {
      return JSON.writeValueAsBytes(json);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
