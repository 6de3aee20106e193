package io.modelship.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class OperatorConfigTest {
  @Test
  void theOperatorsPodLabelsAreReadFromTheEnvironmentAndAMalformedOneIsRefused() {
    assertThat(OperatorConfig.fromEnvironment(Map.of(
        "MODELSHIP_OPERATOR_POD_LABELS", "app.kubernetes.io/name=modelship-operator, app.kubernetes.io/instance=ms"))
        .podLabels())
        .containsExactlyInAnyOrderEntriesOf(Map.of("app.kubernetes.io/name", "modelship-operator",
            "app.kubernetes.io/instance", "ms"));
    assertThat(OperatorConfig.defaults().podLabels()).isEmpty();
    assertThatThrownBy(() -> OperatorConfig.fromEnvironment(Map.of("MODELSHIP_OPERATOR_POD_LABELS", "just-a-name")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k=v,k=v");
  }
}
