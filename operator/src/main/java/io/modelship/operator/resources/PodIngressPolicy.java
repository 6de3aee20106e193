package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.revision.PodContract;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The NetworkPolicy {@code <name>} over every pod of a ModelDeployment: only its clients, the operator and its own
 * pods may open a connection to the model server's port. Clients are {@code spec.networkPolicy.from} when given,
 * else every pod of the ModelDeployment's namespace and pods anywhere labelled {@code modelship.io/client=true}.
 * The operator is let in because it scrapes the canary's metrics for the gates and gives the pods their orders
 * (shadow mirroring, in-place versions); the ModelDeployment's own pods because a stable pod mirrors requests to
 * the canary's pods in shadow mode. The kubelet's probes come from the node, which the common network plugins
 * (Calico, Cilium) admit whatever the policy says. {@code spec.networkPolicy.enabled: false} keeps no policy.
 */
public final class PodIngressPolicy {
  /** The label a client pod in another namespace carries to be let in by the default policy. */
  public static final String CLIENT_LABEL = "modelship.io/client";
  private static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

  /** Where the operator runs and the labels of its pods, so the policy can let it in. */
  public record Operator(String namespace, Map<String, String> podLabels) {}

  private PodIngressPolicy() {}

  public static boolean enabled(ModelDeployment mdep) {
    var spec = mdep.getSpec().getNetworkPolicy();
    return spec == null || !Boolean.FALSE.equals(spec.getEnabled());
  }

  /** The policy this ModelDeployment asks for, or empty when it asks for none. */
  public static Optional<NetworkPolicy> desired(ModelDeployment mdep, Operator operator) {
    if (!enabled(mdep)) {
      return Optional.empty();
    }
    var spec = mdep.getSpec().getNetworkPolicy();
    List<NetworkPolicyPeer> peers = new ArrayList<>();
    if (spec != null && spec.getFrom() != null && !spec.getFrom().isEmpty()) {
      peers.addAll(spec.getFrom());
    } else {
      peers.add(new NetworkPolicyPeerBuilder().withPodSelector(new LabelSelectorBuilder().build()).build());
      peers.add(new NetworkPolicyPeerBuilder().withNamespaceSelector(new LabelSelectorBuilder().build())
          .withPodSelector(new LabelSelectorBuilder().addToMatchLabels(CLIENT_LABEL, "true").build()).build());
    }
    peers.add(new NetworkPolicyPeerBuilder()
        .withPodSelector(new LabelSelectorBuilder().withMatchLabels(Labels.deploymentSelector(mdep)).build()).build());
    if (!operator.podLabels().isEmpty()) {
      peers.add(new NetworkPolicyPeerBuilder()
          .withNamespaceSelector(new LabelSelectorBuilder().addToMatchLabels(NAMESPACE_NAME_LABEL, operator.namespace())
              .build())
          .withPodSelector(new LabelSelectorBuilder().withMatchLabels(operator.podLabels()).build()).build());
    }
    return Optional.of(new NetworkPolicyBuilder()
        .withMetadata(Labels.owned(mdep, mdep.getMetadata().getName(), Labels.forDeployment(mdep)))
        .withNewSpec()
        .withNewPodSelector().withMatchLabels(Labels.deploymentSelector(mdep)).endPodSelector()
        .withPolicyTypes("Ingress")
        .addNewIngress()
        .withFrom(peers)
        .addNewPort().withProtocol("TCP").withPort(new IntOrString(PodContract.HTTP_PORT)).endPort()
        .endIngress()
        .endSpec()
        .build());
  }
}
