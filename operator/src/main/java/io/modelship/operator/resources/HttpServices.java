package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.modelship.operator.revision.PodContract;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.modelship.operator.api.ModelDeployment;
import java.util.Map;

/** The shape every Service of ours shares: ClusterIP, port 80 onto the model server's named http port. */
final class HttpServices {
  private HttpServices() {}

  static Service clusterIp(ModelDeployment mdep, String name, Map<String, String> labels, Map<String, String> selector) {
    return new ServiceBuilder()
        .withMetadata(Labels.owned(mdep, name, labels))
        .withNewSpec()
        .withType("ClusterIP")
        .withSelector(selector)
        .addNewPort()
        .withName("http")
        .withProtocol("TCP")
        .withPort(80)
        .withTargetPort(new IntOrString(PodContract.HTTP_PORT_NAME))
        .endPort()
        .endSpec()
        .build();
  }
}
