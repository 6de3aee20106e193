package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.revision.Revision;
import java.util.Map;

/**
 * The digest a revision's first pod verified, kept in a ConfigMap named like the revision and handed to every
 * later pod's fetch step as the digest it must find (docs/pod-contract.md). A version is pinned, and so are its
 * bytes: an artifact overwritten in place under the same version fails the next pod's fetch, loudly, instead of
 * being served under the old revision's name. Pods read it when their fetch step starts, so the Deployment's
 * template never changes and no pod is replaced to pin it.
 */
public final class RevisionPin {
  public static final String KEY = "sha256";
  /** The fetch step's variable; see FetchOptions in the model server. */
  public static final String ENV = "MODELSHIP_PINNED_SHA256";

  private RevisionPin() {}

  public static ConfigMap desired(ModelDeployment mdep, String revision, String sha256) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(Revision.objectName(mdep.getMetadata().getName(), revision))
        .withNamespace(mdep.getMetadata().getNamespace())
        .withLabels(Labels.forRevision(mdep, revision))
        .withOwnerReferences(Labels.ownerReference(mdep))
        .endMetadata()
        .withData(Map.of(KEY, sha256))
        .build();
  }

  /** The fetch step's pinned digest: from the revision's ConfigMap once it exists, absent before. */
  static EnvVar env(String objectName) {
    return new EnvVarBuilder()
        .withName(ENV)
        .withNewValueFrom()
        .withNewConfigMapKeyRef(KEY, objectName, true)
        .endValueFrom()
        .build();
  }
}
