package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.revision.Revision;

/**
 * The Service of one revision, {@code <name>-<revision>}: the backend for exact-weight traffic (Gateway API),
 * shadow traffic and per-revision metrics. Clients never need it.
 */
public final class RevisionService {
  private RevisionService() {}

  public static Service desired(ModelDeployment mdep, Revision revision) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(revision.objectName(mdep))
        .withNamespace(mdep.getMetadata().getNamespace())
        .withLabels(Labels.forRevision(mdep, revision.hash()))
        .withOwnerReferences(Labels.ownerReference(mdep))
        .endMetadata()
        .withNewSpec()
        .withType("ClusterIP")
        .withSelector(Labels.revisionSelector(mdep, revision.hash()))
        .addNewPort()
        .withName("http")
        .withProtocol("TCP")
        .withPort(80)
        .withTargetPort(new IntOrString(RevisionDeployment.HTTP_PORT_NAME))
        .endPort()
        .endSpec()
        .build();
  }
}
