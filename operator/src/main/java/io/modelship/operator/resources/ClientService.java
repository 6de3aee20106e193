package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.modelship.operator.api.ModelDeployment;

/**
 * The Service clients call, {@code <name>}. It selects the pods of every live revision, so with the
 * default traffic mode the split between revisions follows their ready-pod counts.
 */
public final class ClientService {
  private ClientService() {}

  public static Service desired(ModelDeployment mdep) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(mdep.getMetadata().getName())
        .withNamespace(mdep.getMetadata().getNamespace())
        .withLabels(Labels.forDeployment(mdep))
        .withOwnerReferences(Labels.ownerReference(mdep))
        .endMetadata()
        .withNewSpec()
        .withType("ClusterIP")
        .withSelector(Labels.deploymentSelector(mdep))
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
