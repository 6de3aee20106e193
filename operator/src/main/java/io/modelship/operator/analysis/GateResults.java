package io.modelship.operator.analysis;

import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/** Builds gate results; one place for how a verdict, its numbers and its time look in status. */
final class GateResults {
  private GateResults() {}

  static GateResultStatus result(
      String gate, Verdict verdict, Double value, Double threshold, String message, Instant at) {
    GateResultStatus result = new GateResultStatus();
    result.setGate(gate);
    result.setVerdict(verdict);
    // NaN and ±Inf are not JSON numbers; an absent value says "nothing measured" without breaking the patch.
    result.setValue(value == null || !Double.isFinite(value) ? null : value);
    result.setThreshold(threshold == null || !Double.isFinite(threshold) ? null : threshold);
    result.setMessage(oneLine(message));
    result.setAt(at.truncatedTo(ChronoUnit.SECONDS).toString());
    return result;
  }

  /** A Fail plain enough to roll back at once (see {@link GateResultStatus#getDecisive()}). */
  static GateResultStatus decisiveFail(String gate, Double value, Double threshold, String message, Instant at) {
    GateResultStatus result = result(gate, Verdict.Fail, value, threshold, message, at);
    result.setDecisive(true);
    return result;
  }

  static GateResultStatus inconclusive(String gate, Double threshold, String message, Instant at) {
    return result(gate, Verdict.Inconclusive, null, threshold, message, at);
  }

  /** Status messages are read in kubectl's one-line columns and in Events; keep them short and flat. */
  static String oneLine(String text) {
    String flat = text == null ? "" : text.replaceAll("[\\r\\n\\t]+", " ").strip();
    return flat.length() <= 300 ? flat : flat.substring(0, 297) + "...";
  }

  static String number(double value) {
    if (value == Math.rint(value) && Math.abs(value) < 1e15) {
      return String.valueOf((long) value);
    }
    return String.format(Locale.ROOT, "%.4g", value);
  }

  static String percent(double share) {
    return String.format(Locale.ROOT, "%.2f%%", share * 100);
  }

  static String millis(double ms) {
    return String.format(Locale.ROOT, "%.1f ms", ms);
  }
}
