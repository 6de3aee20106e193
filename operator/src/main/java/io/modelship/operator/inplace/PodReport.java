package io.modelship.operator.inplace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What one model-server pod says it holds ({@code GET /admin/versions}): the placement it took, how it routes
 * now, and where each version stands.
 *
 * @param primary the version answering unversioned requests now
 * @param candidate the version taking {@code weight} percent of them now, once ready
 */
public record PodReport(
    String primary,
    Optional<String> candidate,
    int weight,
    Optional<String> placedPrimary,
    Optional<String> placedCandidate,
    int placedWeight,
    Map<String, VersionState> versions) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One version in one pod: FETCHING, LOADING, WARMING_UP, READY, FAILED or UNLOADING. */
  public record VersionState(String state, Optional<String> reason, Optional<String> message, Optional<String> sha256) {
    public boolean ready() {
      return "READY".equals(state);
    }

    public boolean failed() {
      return "FAILED".equals(state);
    }
  }

  /** @throws IllegalArgumentException when the body is not a report */
  public static PodReport parse(String body) {
    JsonNode json;
    try {
      json = JSON.readTree(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON");
    }
    if (json == null || !json.isObject() || !json.path("primary").isTextual()) {
      throw new IllegalArgumentException("not a report of /admin/versions");
    }
    JsonNode placed = json.path("placement");
    Map<String, VersionState> versions = new LinkedHashMap<>();
    for (JsonNode v : json.path("versions")) {
      versions.put(v.path("version").asText(), new VersionState(v.path("state").asText(), text(v, "reason"),
          text(v, "message"), text(v, "sha256")));
    }
    return new PodReport(json.path("primary").asText(), text(json, "candidate"), json.path("weight").asInt(0),
        text(placed, "primary"), text(placed, "candidate"), placed.path("weight").asInt(0), versions);
  }

  private static Optional<String> text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? Optional.empty() : Optional.of(value.asText());
  }

  public Optional<VersionState> version(String version) {
    return Optional.ofNullable(versions.get(version));
  }

  /** Holds {@code version} ready and routes {@code weight} percent of unversioned requests to it as candidate. */
  public boolean serves(String version, int candidateWeight) {
    return version(version).map(VersionState::ready).orElse(false)
        && candidate.filter(version::equals).isPresent() && weight == candidateWeight;
  }

  /** Serves {@code version} as its primary and holds nothing else. */
  public boolean servesOnly(String version) {
    return primary.equals(version) && candidate.isEmpty() && versions.keySet().stream().allMatch(version::equals);
  }
}
