package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.Service;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.revision.Revision;

/**
 * The Service of one revision, {@code <name>-<revision>}: the backend for exact-weight traffic (Gateway API),
 * shadow traffic and per-revision metrics. Clients never need it.
 */
public final class RevisionService {
  private RevisionService() {}

  /** Only the revision's hash matters, so the stable revision's Service can be built after its spec is gone. */
  public static Service desired(ModelDeployment mdep, String revision) {
    return HttpServices.clusterIp(
        mdep,
        Revision.objectName(mdep.getMetadata().getName(), revision),
        Labels.forRevision(mdep, revision),
        Labels.revisionSelector(mdep, revision));
  }
}
