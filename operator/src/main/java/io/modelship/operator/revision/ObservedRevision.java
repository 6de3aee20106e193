package io.modelship.operator.revision;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What the cluster shows of one revision: its Deployment and its pods. Read-only; every judgement about a
 * revision (ready? artifact fetched? fetch failed?) is made here from observed state, never from memory.
 */
public record ObservedRevision(String hash, Deployment deployment, List<Pod> pods) {

  /** What the fetch step reported about the artifact it verified (docs/pod-contract.md). */
  public record Artifact(String resolvedUri, String modelVersion, String sha256) {}

  /**
   * A revision served in place by the pods of {@code host} (docs/pod-contract.md): its Deployment and pods are the
   * host's. What those pods' fetch step reported is the host's artifact, never this revision's.
   */
  public static ObservedRevision hostedBy(String hash, ObservedRevision host) {
    return new ObservedRevision(hash, host.deployment(), host.pods());
  }

  /** True when this revision runs inside another revision's pods. */
  public boolean hosted() {
    var labels = deployment.getMetadata().getLabels();
    return labels != null && !hash.equals(labels.get(io.modelship.operator.api.CrdConstants.LABEL_REVISION));
  }

  /** The revision whose Deployment and pods these are: this one, or its host. */
  public String podRevision() {
    var labels = deployment.getMetadata().getLabels();
    return hosted() ? labels.get(io.modelship.operator.api.CrdConstants.LABEL_REVISION) : hash;
  }

  public int desiredReplicas() {
    return deployment.getSpec() != null && deployment.getSpec().getReplicas() != null
        ? deployment.getSpec().getReplicas()
        : 1;
  }

  /**
   * Pods of this revision that still hold their node's resources: desired ones, and any not yet gone (a terminating
   * pod keeps its GPU until it has exited). Swap mode may start a canary pod only into resources really freed.
   */
  public int podsHoldingResources() {
    long present = pods.stream()
        .filter(p -> p.getStatus() == null
            || !("Succeeded".equals(p.getStatus().getPhase()) || "Failed".equals(p.getStatus().getPhase())))
        .count();
    return (int) Math.max(desiredReplicas(), present);
  }

  public int readyReplicas() {
    var status = deployment.getStatus();
    return status != null && status.getReadyReplicas() != null ? status.getReadyReplicas() : 0;
  }

  /** Every desired pod ready, and the Deployment controller has seen the current spec. */
  public boolean isReady() {
    var status = deployment.getStatus();
    if (status == null) {
      return false;
    }
    Long generation = deployment.getMetadata().getGeneration();
    boolean observedCurrent =
        generation == null || (status.getObservedGeneration() != null && status.getObservedGeneration() >= generation);
    return observedCurrent && readyReplicas() >= desiredReplicas();
  }

  /** The artifact as reported by any pod whose fetch step succeeded. */
  public Optional<Artifact> artifact() {
    if (hosted()) {
      return Optional.empty();
    }
    return fetchStatuses()
        .map(ObservedRevision::successfulTermination)
        .filter(Objects::nonNull)
        .map(t -> parseArtifact(t.getMessage()))
        .flatMap(Optional::stream)
        .findFirst();
  }

  /**
   * Why fetching failed, when some pod's fetch step failed and none succeeded. A pod being deleted does not count:
   * its fetch was stopped (SIGTERM, exit 143), not failed; such a pod is left over from an earlier attempt at the
   * same revision (an abort, then a retry within a second, showed it) or is being scaled away.
   */
  public Optional<String> fetchFailure() {
    if (hosted() || artifact().isPresent()) {
      return Optional.empty();
    }
    return fetchStatuses(pods.stream().filter(p -> p.getMetadata() == null || p.getMetadata().getDeletionTimestamp() == null))
        .map(ObservedRevision::failedTermination)
        .filter(Objects::nonNull)
        .findFirst()
        .map(t -> "fetch exited with code %d%s: %s".formatted(
            t.getExitCode(),
            t.getExitCode() == 3 ? " (permanent: fix the source or the spec)" : t.getExitCode() == 4 ? " (retrying)" : "",
            failureMessage(t.getMessage())));
  }

  private Stream<ContainerStatus> fetchStatuses() {
    return fetchStatuses(pods.stream());
  }

  private static Stream<ContainerStatus> fetchStatuses(Stream<Pod> pods) {
    return pods
        .filter(p -> p.getStatus() != null && p.getStatus().getInitContainerStatuses() != null)
        .flatMap(p -> p.getStatus().getInitContainerStatuses().stream())
        .filter(s -> PodContract.FETCH_CONTAINER.equals(s.getName()));
  }

  private static ContainerStateTerminated successfulTermination(ContainerStatus s) {
    var t = s.getState() != null ? s.getState().getTerminated() : null;
    return t != null && Integer.valueOf(0).equals(t.getExitCode()) ? t : null;
  }

  private static ContainerStateTerminated failedTermination(ContainerStatus s) {
    // While the kubelet backs off before a retry, the failure sits in lastState.
    for (var state : new io.fabric8.kubernetes.api.model.ContainerState[] {s.getState(), s.getLastState()}) {
      var t = state != null ? state.getTerminated() : null;
      if (t != null && t.getExitCode() != null && t.getExitCode() != 0) {
        return t;
      }
    }
    return null;
  }

  private static Optional<Artifact> parseArtifact(String message) {
    if (message == null || message.isBlank()) {
      return Optional.empty();
    }
    try {
      JsonNode json = Serialization.jsonMapper().readTree(message.trim());
      return Optional.of(new Artifact(text(json, "resolvedUri"), text(json, "modelVersion"), text(json, "sha256")));
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  private static String text(JsonNode json, String field) {
    JsonNode node = json.get(field);
    return node == null || node.isNull() ? null : node.asText();
  }

  /** fetch writes {"error": ..., "exitCode": N}; kubelet may instead give us the tail of the log. */
  private static String failureMessage(String message) {
    if (message != null && message.strip().startsWith("{")) {
      try {
        String error = text(Serialization.jsonMapper().readTree(message.strip()), "error");
        if (error != null) {
          return error;
        }
      } catch (Exception e) {
        // not JSON after all: fall through to the raw text
      }
    }
    return lastLine(message);
  }

  private static String lastLine(String message) {
    if (message == null || message.isBlank()) {
      return "no message; see the logs of the fetch container";
    }
    String line = message.strip().lines().reduce((a, b) -> b).orElse("");
    return line.length() > 512 ? line.substring(0, 512) + "…" : line;
  }
}
