package io.modelship.operator.analysis;

import io.modelship.operator.analysis.MetricWindows.PodScrape;
import io.modelship.operator.api.spec.GateSpec.PredictionAgreementGate;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import java.time.Instant;
import java.util.List;

/**
 * The canary judged on what it predicts. The stable pods mirror their requests to the canary and count, per
 * canary revision, the rows they compared and the rows whose top-1 answer agreed
 * ({@code modelship_shadow_rows_total} and {@code modelship_shadow_agreeing_rows_total}, labelled
 * {@code shadow_version=<canary revision>}). Those counters start with the canary, so their sums over the stable
 * pods are every comparison made for it: the gate judges all of them, not a window.
 */
final class PredictionAgreement {
  static final String KIND = "predictionAgreement";
  static final String ROWS = "modelship_shadow_rows_total";
  static final String AGREEING = "modelship_shadow_agreeing_rows_total";
  static final int DEFAULT_MIN_SAMPLES = 100;

  private PredictionAgreement() {}

  static GateResultStatus judge(String name, PredictionAgreementGate gate, List<PodScrape> stableScrapes,
      String canaryRevision, String model, Instant at) {
    double min = gate.getMin() != null ? gate.getMin() : 0.95;
    int minSamples = gate.getMinSamples() != null ? gate.getMinSamples() : DEFAULT_MIN_SAMPLES;
    double rows = 0;
    double agreeing = 0;
    int reporting = 0;
    for (PodScrape scrape : stableScrapes) {
      if (scrape.text().isEmpty()) {
        continue;
      }
      reporting++;
      for (PrometheusText.Sample s : PrometheusText.parse(scrape.text().get())) {
        if (!canaryRevision.equals(s.label("shadow_version")) || !model.equals(s.label("model"))) {
          continue;
        }
        if (ROWS.equals(s.name())) {
          rows += s.value();
        } else if (AGREEING.equals(s.name())) {
          agreeing += s.value();
        }
      }
    }
    if (rows < minSamples) {
      return GateResults.inconclusive(name, min, "%d of %d rows compared so far (%d stable pod(s) scraped)"
          .formatted((long) rows, minSamples, reporting), at);
    }
    double agreement = agreeing / rows;
    String message = "%s of %d mirrored rows agree with the stable revision (at least %s asked)".formatted(
        GateResults.percent(agreement), (long) rows, GateResults.percent(min));
    return GateResults.result(name, agreement >= min ? Verdict.Pass : Verdict.Fail, agreement, min, message, at);
  }
}
