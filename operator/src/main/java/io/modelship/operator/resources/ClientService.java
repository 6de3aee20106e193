package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.Service;
import io.modelship.operator.api.CrdConstants;
import io.modelship.operator.api.ModelDeployment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The Service clients call, {@code <name>}. It selects the pods of every live revision, so with the
 * default traffic mode the split between revisions follows their ready-pod counts; while a rolled-back canary's
 * pods wait for the stable revision to grow back, it selects the stable revision's pods alone.
 */
public final class ClientService {
  private ClientService() {}

  public static Service desired(ModelDeployment mdep) {
    return desired(mdep, Optional.empty());
  }

  /** @param onlyRevision the one revision that may take traffic, or empty for every live revision */
  public static Service desired(ModelDeployment mdep, Optional<String> onlyRevision) {
    Map<String, String> selector = new LinkedHashMap<>(Labels.deploymentSelector(mdep));
    onlyRevision.ifPresent(revision -> selector.put(CrdConstants.LABEL_REVISION, revision));
    return HttpServices.clusterIp(mdep, mdep.getMetadata().getName(), Labels.forDeployment(mdep), selector);
  }
}
