package io.modelship.operator.resources;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder;
import org.junit.jupiter.api.Test;

/** Which updates of an autoscaler reach its ModelDeployment's reconciler. */
class PodAutoscalerTest {

  private static HorizontalPodAutoscaler hpa(long generation, int desired, String activeStatus, int cpuNow) {
    return new HorizontalPodAutoscalerBuilder().withNewMetadata().withName("iris").withGeneration(generation).endMetadata()
        .withNewStatus().withDesiredReplicas(desired).withCurrentReplicas(desired)
        .addNewCurrentMetric().withType("Resource").withNewResource().withName("cpu").withNewCurrent()
        .withAverageUtilization(cpuNow).endCurrent().endResource().endCurrentMetric()
        .addNewCondition().withType("ScalingActive").withStatus(activeStatus).withReason("ValidMetricFound")
        .withMessage("utilisation now " + cpuNow).endCondition()
        .endStatus().build();
  }

  @Test
  void aNewMetricReadingIsNotAnUpdateButAVerdictACountOrASpecIs() {
    var before = hpa(1, 2, "True", 40);
    assertThat(PodAutoscaler.changed(hpa(1, 2, "True", 55), before)).as("only the reading moved").isFalse();
    assertThat(PodAutoscaler.changed(hpa(1, 3, "True", 95), before)).as("it asks for another count").isTrue();
    assertThat(PodAutoscaler.changed(hpa(1, 2, "False", 40), before)).as("it can no longer scale").isTrue();
    assertThat(PodAutoscaler.changed(hpa(2, 2, "True", 40), before)).as("its spec changed").isTrue();
  }
}
