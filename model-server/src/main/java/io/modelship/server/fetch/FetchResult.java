package io.modelship.server.fetch;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What a successful fetch records, in the pod contract's shape: {@code .modelship/artifact.json} and the container's
 * termination message, from which the operator fills {@code status.*.digest} and {@code status.*.modelVersion}.
 *
 * @param modelVersion the MLflow version number; null for S3 and HTTP sources, which have no registry version
 */
@JsonPropertyOrder({"source", "resolvedUri", "modelVersion", "sha256", "bytes", "files"})
@JsonInclude(JsonInclude.Include.ALWAYS)
public record FetchResult(
    String source, String resolvedUri, String modelVersion, String sha256, long bytes, int files) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One line, no trailing newline: the termination message is read as it is. */
  String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a record of strings and numbers always serialises", e);
    }
  }

  static FetchResult fromJson(String json) {
    try {
      return JSON.readValue(json, FetchResult.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a fetch result: " + e.getOriginalMessage());
    }
  }
}
