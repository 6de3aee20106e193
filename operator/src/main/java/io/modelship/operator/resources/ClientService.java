package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.Service;
import io.modelship.operator.api.ModelDeployment;

/**
 * The Service clients call, {@code <name>}. It selects the pods of every live revision, so with the
 * default traffic mode the split between revisions follows their ready-pod counts.
 */
public final class ClientService {
  private ClientService() {}

  public static Service desired(ModelDeployment mdep) {
    return HttpServices.clusterIp(
        mdep, mdep.getMetadata().getName(), Labels.forDeployment(mdep), Labels.deploymentSelector(mdep));
  }
}
