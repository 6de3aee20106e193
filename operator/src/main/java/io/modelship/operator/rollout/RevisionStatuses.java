package io.modelship.operator.rollout;

import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.ModelSource;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.RevisionStatus;
import io.modelship.operator.reconciler.ObservedRevision;
import java.util.Optional;

/** Fills a revision's status from what its pods report, falling back on what status already recorded. */
public final class RevisionStatuses {
  private RevisionStatuses() {}

  public static <T extends RevisionStatus> T fill(
      T rs, ModelDeployment mdep, String hash, Optional<ObservedRevision> observed, ModelDeploymentStatus previous) {
    rs.setRevision(hash);
    rs.setReplicas(observed.map(ObservedRevision::desiredReplicas).orElse(0));
    rs.setReadyReplicas(observed.map(ObservedRevision::readyReplicas).orElse(0));
    // Pods come and go; what a revision's artifact was does not change, so earlier status is a fine source.
    Optional<RevisionStatus> earlier = Optional.ofNullable(previous.getStable())
        .filter(s -> hash.equals(s.getRevision()))
        .or(() -> Optional.ofNullable(previous.getCanary()).filter(s -> hash.equals(s.getRevision())));
    Optional<ObservedRevision.Artifact> artifact = observed.flatMap(ObservedRevision::artifact);
    rs.setArtifactUri(artifact.map(ObservedRevision.Artifact::resolvedUri)
        .or(() -> earlier.map(RevisionStatus::getArtifactUri))
        .orElseGet(() -> hash.equals(Optional.ofNullable(previous.getStable()).map(RevisionStatus::getRevision).orElse(null))
            ? null : sourceUri(mdep)));
    rs.setModelVersion(artifact.map(ObservedRevision.Artifact::modelVersion)
        .or(() -> earlier.map(RevisionStatus::getModelVersion)).orElse(null));
    rs.setDigest(artifact.map(ObservedRevision.Artifact::sha256)
        .or(() -> earlier.map(RevisionStatus::getDigest)).orElse(null));
    return rs;
  }

  public static RevisionStatus of(
      ModelDeployment mdep, String hash, Optional<ObservedRevision> observed, ModelDeploymentStatus previous) {
    return fill(new RevisionStatus(), mdep, hash, observed, previous);
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
