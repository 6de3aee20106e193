package io.modelship.operator.rollout;

import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.ModelSource;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.RevisionStatus;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.modelship.operator.revision.ObservedRevision;
import java.util.Optional;

/** Fills a revision's status from what its pods report, falling back on what status already recorded. */
public final class RevisionStatuses {
  private RevisionStatuses() {}

  /** Fills {@code rs} for one revision of the view: the spec's source URI only ever describes the target. */
  public static <T extends RevisionStatus> T fill(T rs, RolloutView v, String hash, Optional<ObservedRevision> observed) {
    return fill(rs, v.mdep(), v.previous(), hash, observed, hash.equals(v.target()) ? sourceUri(v.mdep()) : null);
  }

  public static RevisionStatus of(RolloutView v, String hash, Optional<ObservedRevision> observed) {
    return fill(new RevisionStatus(), v, hash, observed);
  }

  /** The recorded stable revision, as observed now (its Deployment may be gone; its record stays). */
  public static RevisionStatus stable(RolloutView v) {
    return of(v, v.stable().map(ObservedRevision::hash).orElse(v.previous().getStable().getRevision()), v.stable());
  }

  /** A working copy of the recorded canary: handlers change it without touching the status they decide from. */
  public static CanaryStatus canaryCopy(RolloutView v) {
    return Serialization.jsonMapper().convertValue(v.previous().getCanary(), CanaryStatus.class);
  }

  /** A revision's status outside a rollout decision (an invalid spec): no source URI is guessed for it. */
  public static RevisionStatus of(
      ModelDeployment mdep, ModelDeploymentStatus previous, String hash, Optional<ObservedRevision> observed) {
    return fill(new RevisionStatus(), mdep, previous, hash, observed, null);
  }

  private static <T extends RevisionStatus> T fill(T rs, ModelDeployment mdep, ModelDeploymentStatus previous,
      String hash, Optional<ObservedRevision> observed, String specSource) {
    rs.setRevision(hash);
    rs.setReplicas(observed.map(ObservedRevision::desiredReplicas).orElse(0));
    rs.setReadyReplicas(observed.map(ObservedRevision::readyReplicas).orElse(0));
    // Pods come and go; what a revision's artifact was does not change, so earlier status is a fine source.
    Optional<RevisionStatus> earlier = Optional.ofNullable(previous.getStable())
        .filter(s -> hash.equals(s.getRevision()))
        .or(() -> Optional.ofNullable(previous.getCanary()).filter(s -> hash.equals(s.getRevision())));
    Optional<ObservedRevision.Artifact> artifact = observed.flatMap(ObservedRevision::artifact);
    rs.setArtifactUri(artifact.map(ObservedRevision.Artifact::resolvedUri)
        .or(() -> earlier.map(RevisionStatus::getArtifactUri)).orElse(specSource));
    rs.setModelVersion(artifact.map(ObservedRevision.Artifact::modelVersion)
        .or(() -> earlier.map(RevisionStatus::getModelVersion)).orElse(null));
    rs.setDigest(artifact.map(ObservedRevision.Artifact::sha256)
        .or(() -> earlier.map(RevisionStatus::getDigest)).orElse(null));
    // A revision served in place lives in its host's pods, as long as they do.
    rs.setHost(observed.filter(ObservedRevision::hosted).map(ObservedRevision::podRevision)
        .or(() -> earlier.map(RevisionStatus::getHost)).orElse(null));
    // What kubectl get mdep shows: S3 and HTTP sources have no registry version, and a blank column helps nobody.
    rs.setVersion(rs.getModelVersion() != null ? rs.getModelVersion() : hash);
    return rs;
  }

  /** The spec's source as one URI: s3://… as written, MLflow as its own models:/ form. */
  public static String sourceUri(ModelDeployment mdep) {
    ModelSource source = mdep.getSpec().getModel().getSource();
    if (source.getS3() != null) {
      return source.getS3().getUri();
    }
    var mlflow = source.getMlflow();
    return mlflow.getAlias() != null
        ? "models:/%s@%s".formatted(mlflow.getName(), mlflow.getAlias())
        : "models:/%s/%s".formatted(mlflow.getName(), mlflow.getVersion());
  }
}
