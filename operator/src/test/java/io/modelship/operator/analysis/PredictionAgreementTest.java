package io.modelship.operator.analysis;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.modelship.operator.analysis.MetricWindows.PodScrape;
import io.modelship.operator.api.spec.GateSpec.PredictionAgreementGate;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PredictionAgreementTest {
  private static final Instant AT = Instant.parse("2026-11-30T12:00:00Z");

  private static PodScrape pod(String name, long rows, long agreeing, String shadowVersion) {
    String labels = "model=\"iris\",shadow_version=\"%s\",version=\"1\"".formatted(shadowVersion);
    String text = """
        # TYPE modelship_shadow_rows_total counter
        modelship_shadow_rows_total{%s} %d.0
        # TYPE modelship_shadow_agreeing_rows_total counter
        modelship_shadow_agreeing_rows_total{%s} %d.0
        """.formatted(labels, rows, labels, agreeing);
    return new PodScrape(new PodBuilder().withNewMetadata().withName(name).endMetadata().build(), Optional.of(text));
  }

  private static PredictionAgreementGate gate(double min, int minSamples) {
    var gate = new PredictionAgreementGate();
    gate.setMin(min);
    gate.setMinSamples(minSamples);
    return gate;
  }

  @Test
  void sumsEveryStablePodsComparisonsForThisCanaryOnly() {
    var result = PredictionAgreement.judge("agree", gate(0.95, 100),
        List.of(pod("a", 60, 59, "c1"), pod("b", 60, 58, "c1"), pod("c", 1000, 0, "an-older-canary")), "c1", "iris", AT);
    assertThat(result.getVerdict()).isEqualTo(Verdict.Pass);
    assertThat(result.getValue()).isEqualTo(117.0 / 120);
    assertThat(result.getMessage()).contains("of 120 mirrored rows agree");
  }

  @Test
  void tooFewComparisonsAreInconclusiveAndDisagreementFails() {
    assertThat(PredictionAgreement.judge("agree", gate(0.95, 100), List.of(pod("a", 99, 99, "c1")), "c1", "iris", AT)
        .getVerdict()).isEqualTo(Verdict.Inconclusive);
    var failed = PredictionAgreement.judge("agree", gate(0.95, 100), List.of(pod("a", 200, 180, "c1")), "c1", "iris", AT);
    assertThat(failed.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(failed.getValue()).isEqualTo(0.9);
    assertThat(failed.getThreshold()).isEqualTo(0.95);
  }
}
