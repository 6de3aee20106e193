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

  public static Service desired(ModelDeployment mdep, Revision revision) {
    return HttpServices.clusterIp(
        mdep,
        revision.objectName(mdep),
        Labels.forRevision(mdep, revision.hash()),
        Labels.revisionSelector(mdep, revision.hash()));
  }
}
