package io.modelship.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelship.operator.api.spec.AutoscalingSpec;
import io.modelship.operator.api.spec.ModelDeploymentSpec;
import org.junit.jupiter.api.Test;

class RolloutSettingsTest {

  @Test
  void fixedReplicasAreTheBudgetAsWritten() {
    assertThat(budget(3, null)).isEqualTo(3);
    assertThat(budget(null, null)).isEqualTo(1);
    assertThat(budget(0, null)).isZero();
  }

  @Test
  void underAutoscalingTheBudgetStaysWithinTheAutoscalersBounds() {
    assertThat(budget(1, autoscaling(2, 6))).as("below the floor, before the autoscaler acted").isEqualTo(2);
    assertThat(budget(4, autoscaling(2, 6))).as("what the autoscaler wrote").isEqualTo(4);
    assertThat(budget(50, autoscaling(2, 6))).as("above the ceiling").isEqualTo(6);
    assertThat(budget(1, autoscaling(null, 6))).as("the floor defaults to 1").isEqualTo(1);
    // Scaled to zero by hand: the autoscaler stops, as it does for a Deployment.
    assertThat(budget(0, autoscaling(2, 6))).isZero();
    // A spec the CRD would refuse (no maximum) still gives a budget instead of throwing.
    assertThat(budget(3, autoscaling(2, null))).isEqualTo(3);
  }

  private static int budget(Integer replicas, AutoscalingSpec autoscaling) {
    var spec = new ModelDeploymentSpec();
    spec.setReplicas(replicas);
    spec.setAutoscaling(autoscaling);
    return RolloutSettings.of(spec).replicas();
  }

  private static AutoscalingSpec autoscaling(Integer min, Integer max) {
    var a = new AutoscalingSpec();
    a.setMinReplicas(min);
    a.setMaxReplicas(max);
    return a;
  }
}
