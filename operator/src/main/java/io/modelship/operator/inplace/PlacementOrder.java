package io.modelship.operator.inplace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelship.operator.api.spec.ModelSource;
import io.modelship.operator.revision.Revision;
import java.io.IOException;
import java.util.Optional;

/**
 * What the model-server pods of a ModelDeployment should hold (docs/pod-contract.md, {@code PUT /admin/versions}):
 * a primary version and, during an in-place canary, a candidate and its weight. Each version names where it comes
 * from, in the terms of the fetch role's flags; never a credential (the pods fetch with their own).
 */
public record PlacementOrder(ObjectNode primary, Optional<ObjectNode> candidate, int weight) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A version the pods already hold (they loaded it at start): no source needed. */
  public static ObjectNode held(String version) {
    return JSON.createObjectNode().put("version", version);
  }

  /** A revision's model, as a server fetches it in place: its served version and its (pinned) source. */
  public static ObjectNode of(Revision revision) {
    ObjectNode entry = held(revision.servedVersion());
    ModelSource source = revision.template().model().getSource();
    if (source.getS3() != null) {
      entry.put("source", source.getS3().getUri());
      putIfSet(entry, "s3Endpoint", source.getS3().getEndpoint());
      putIfSet(entry, "s3Region", source.getS3().getRegion());
    } else {
      var mlflow = source.getMlflow();
      entry.put("source", "mlflow://" + mlflow.getName());
      putIfSet(entry, "mlflowTrackingUri", mlflow.getTrackingUri());
      putIfSet(entry, "mlflowVersion", mlflow.getVersion());
    }
    putIfSet(entry, "sha256", revision.template().model().getSha256());
    return entry;
  }

  private static void putIfSet(ObjectNode entry, String field, String value) {
    if (value != null && !value.isBlank()) {
      entry.put(field, value);
    }
  }

  public String primaryVersion() {
    return primary.path("version").asText();
  }

  public Optional<String> candidateVersion() {
    return candidate.map(c -> c.path("version").asText());
  }

  public String json() {
    ObjectNode json = JSON.createObjectNode();
    json.set("primary", primary);
    candidate.ifPresent(c -> json.set("candidate", c));
    json.put("weight", candidate.isPresent() ? weight : 0);
    return json.toString();
  }

  /** The order a ConfigMap holds, if it holds one. */
  public static Optional<PlacementOrder> parse(String json) {
    if (json == null || json.isBlank()) {
      return Optional.empty();
    }
    try {
      JsonNode node = JSON.readTree(json);
      if (node == null || !(node.get("primary") instanceof ObjectNode primary)) {
        return Optional.empty();
      }
      Optional<ObjectNode> candidate = node.get("candidate") instanceof ObjectNode c ? Optional.of(c) : Optional.empty();
      return Optional.of(new PlacementOrder(primary, candidate, node.path("weight").asInt(0)));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Whether a pod that reports {@code report} already holds this order (it acknowledged it). */
  public boolean acknowledgedBy(PodReport report) {
    return report.placedPrimary().filter(primaryVersion()::equals).isPresent()
        && report.placedCandidate().equals(candidateVersion())
        && report.placedWeight() == (candidate.isPresent() ? weight : 0);
  }
}
