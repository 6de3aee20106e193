package io.modelship.server.serve.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The API key inference requests must carry, read once from the mounted secret. Only a digest of the key is
 * kept, and keys are compared digest to digest in constant time, so neither the key's content nor its length
 * leaks through timing. It never logs or prints the key, and has no toString that could.
 */
public final class ApiKey {
  private final byte[] digest;

  private ApiKey(byte[] digest) {
    this.digest = digest;
  }

  /** Reads the key file; surrounding whitespace (the newline a secret often ends with) is not part of it. */
  public static ApiKey fromFile(Path file) throws IOException {
    if (!Files.exists(file)) {
      throw new IOException("API key file " + file + " does not exist (check --api-key-file and the mounted Secret)");
    }
    if (Files.isDirectory(file)) {
      throw new IOException("API key file " + file + " is a directory, not a file");
    }
    if (!Files.isReadable(file)) {
      throw new IOException("API key file " + file + " is not readable by this user (check the Secret's mode)");
    }
    String key = Files.readString(file, StandardCharsets.UTF_8).strip();
    if (key.isEmpty()) {
      throw new IOException("API key file " + file + " is empty");
    }
    return new ApiKey(sha256(key));
  }

  public static ApiKey of(String key) {
    return new ApiKey(sha256(key));
  }

  /**
   * Whether the request presented the key, in {@code X-API-Key} or as {@code Authorization: Bearer <key>}.
   */
  boolean acceptedFrom(String apiKeyHeader, String authorizationHeader) {
    String presented = apiKeyHeader;
    if (presented == null && authorizationHeader != null
        && authorizationHeader.regionMatches(true, 0, "Bearer ", 0, 7)) {
      presented = authorizationHeader.substring(7).strip();
    }
    return presented != null && MessageDigest.isEqual(digest, sha256(presented));
  }

  private static byte[] sha256(String value) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return "ApiKey[redacted]";
  }
}
