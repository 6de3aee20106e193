package io.modelship.operator.resources;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelship.operator.testing.ModelDeployments;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodIngressPolicyTest {
  @Test
  void theOperatorIsLetInByItsNamespaceAndPodLabelsWhenItKnowsThem() {
    var mdep = ModelDeployments.s3("fenced", "s3://models/fenced/1/");
    var labels = Map.of("app.kubernetes.io/name", "modelship-operator", "app.kubernetes.io/instance", "modelship");

    var policy = PodIngressPolicy.desired(mdep, new PodIngressPolicy.Operator("modelship", labels)).orElseThrow();

    var from = policy.getSpec().getIngress().get(0).getFrom();
    assertThat(from).hasSize(4);
    assertThat(from.get(3).getNamespaceSelector().getMatchLabels())
        .containsExactlyEntriesOf(Map.of("kubernetes.io/metadata.name", "modelship"));
    assertThat(from.get(3).getPodSelector().getMatchLabels()).isEqualTo(labels);
    // Outside a cluster the operator has no pod to let in.
    assertThat(PodIngressPolicy.desired(mdep, new PodIngressPolicy.Operator("default", Map.of())).orElseThrow()
        .getSpec().getIngress().get(0).getFrom()).hasSize(3);
  }

  @Test
  void noPolicyWhenTheModelDeploymentTurnsItOff() {
    var mdep = ModelDeployments.s3("open", "s3://models/open/1/");
    var spec = new io.modelship.operator.api.spec.NetworkPolicySpec();
    spec.setEnabled(false);
    mdep.getSpec().setNetworkPolicy(spec);
    assertThat(PodIngressPolicy.desired(mdep, new PodIngressPolicy.Operator("modelship", Map.of()))).isEmpty();
  }
}
