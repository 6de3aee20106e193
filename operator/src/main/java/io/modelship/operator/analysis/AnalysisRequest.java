package io.modelship.operator.analysis;

import io.fabric8.kubernetes.api.model.Pod;
import io.modelship.operator.api.ModelDeployment;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Everything one evaluation needs: the ModelDeployment (namespace, name, model name, spec.rollout.analysis, which
 * may be null for defaults), and the live pods of both revisions as the informer sees them. An in-place canary
 * shares its pods with the stable revision: then {@code inPlace} names the two versions the pods' metrics tell
 * apart, and since when a restart counts against the canary.
 */
public record AnalysisRequest(
    ModelDeployment mdep,
    String canaryRevision,
    List<Pod> canaryPods,
    String stableRevision,
    List<Pod> stablePods,
    Instant now,
    Optional<InPlace> inPlace) {

  /** The served versions of an in-place canary and of the stable revision, and when the canary started. */
  public record InPlace(String canaryVersion, String stableVersion, Instant since) {}

  public AnalysisRequest(ModelDeployment mdep, String canaryRevision, List<Pod> canaryPods, String stableRevision,
      List<Pod> stablePods, Instant now) {
    this(mdep, canaryRevision, canaryPods, stableRevision, stablePods, now, Optional.empty());
  }
}
