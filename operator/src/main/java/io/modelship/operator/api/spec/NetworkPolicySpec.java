package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import java.util.List;

/** Who may reach the model-server pods: the NetworkPolicy the operator keeps beside them. */
public class NetworkPolicySpec {
  @Default("true")
  @JsonPropertyDescription("Keep the NetworkPolicy <name>, which admits to the model-server pods' port only the clients "
      + "in 'from', the operator (gates, in-place orders, shadow control) and the ModelDeployment's own pods (shadow "
      + "mirroring). false: no policy; the pods take whatever the namespace's policies allow.")
  private Boolean enabled = true;

  @Size(max = 32)
  @JsonPropertyDescription("Clients allowed in, as NetworkPolicy peers (podSelector, namespaceSelector, ipBlock). "
      + "Default: every pod in the ModelDeployment's namespace, and pods in any namespace labelled "
      + "modelship.io/client=true. Add your Prometheus here when it scrapes the pods.")
  private List<NetworkPolicyPeer> from;

  public Boolean getEnabled() { return enabled; }
  public void setEnabled(Boolean enabled) { this.enabled = enabled; }
  public List<NetworkPolicyPeer> getFrom() { return from; }
  public void setFrom(List<NetworkPolicyPeer> from) { this.from = from; }
}
