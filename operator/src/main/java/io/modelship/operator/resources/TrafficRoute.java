package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRefBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReferenceBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.TrafficSpec.GatewayApiTraffic;
import io.modelship.operator.revision.Revision;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The HTTPRoute of the gatewayAPI traffic mode: exact weights across the per-revision Services. A revision
 * with weight 0 stays listed, so moving traffic is a weight change, never a route rebuild.
 */
public final class TrafficRoute {
  private TrafficRoute() {}

  /** @param weights revision hash to weight, stable first; weights sum to 100 */
  public static HTTPRoute desired(ModelDeployment mdep, GatewayApiTraffic gateway, Map<String, Integer> weights) {
    List<ParentReference> parents = gateway.getParentRefs().stream()
        .map(p -> new ParentReferenceBuilder()
            .withName(p.getName())
            .withNamespace(p.getNamespace())
            .withSectionName(p.getSectionName())
            .build())
        .toList();
    List<HTTPBackendRef> backends = new LinkedHashMap<>(weights).entrySet().stream()
        .map(e -> new HTTPBackendRefBuilder()
            .withName(Revision.objectName(mdep.getMetadata().getName(), e.getKey()))
            .withPort(80)
            .withWeight(e.getValue())
            .build())
        .toList();
    return new HTTPRouteBuilder()
        .withNewMetadata()
        .withName(gateway.getHttpRoute())
        .withNamespace(mdep.getMetadata().getNamespace())
        .withLabels(Labels.forDeployment(mdep))
        .withOwnerReferences(Labels.ownerReference(mdep))
        .endMetadata()
        .withNewSpec()
        .withParentRefs(parents)
        .addNewRule()
        .withBackendRefs(backends)
        .endRule()
        .endSpec()
        .build();
  }
}
