package io.modelship.operator.analysis;

import static io.modelship.operator.analysis.GateResults.millis;
import static io.modelship.operator.analysis.GateResults.number;

import io.modelship.operator.analysis.MetricWindows.RevisionWindow;
import io.modelship.operator.api.spec.GateSpec;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import java.time.Instant;
import java.util.Locale;
import java.util.TreeMap;

/**
 * The latencyP99 gate: the canary's p99 from its latency histogram over the window, against an absolute bound
 * ({@code maxMs}), against the stable revision's p99 over the same window ({@code maxRatio}), or both (both must
 * pass). A Fail on either check wins over an Inconclusive on the other: it is already a definite answer.
 */
final class LatencyP99 {
  static final String KIND = "latencyP99";
  /** Below this difference a p99 ratio measured in millisecond buckets is noise (the rollout benchmark saw 9x). */
  static final double DEFAULT_MIN_DELTA_MS = 5.0;
  private static final double Q = 0.99;

  private LatencyP99() {}

  private record Check(Verdict verdict, Double value, Double threshold, String message) {}

  static GateResultStatus judge(String gate, GateSpec.LatencyGate spec, RevisionWindow canary,
      RevisionWindow stable, int minRequests, Instant at) {
    int needed = Math.max(minRequests, 1);
    TreeMap<Double, Double> canaryBuckets = canary.latencyBuckets(ServerMetricNames.LATENCY_OUTCOMES);
    double canaryCount = count(canaryBuckets);
    Double firstThreshold = spec.getMaxMs() != null ? spec.getMaxMs() : spec.getMaxRatio();
    if (spec.getMaxMs() == null && spec.getMaxRatio() == null) {
      return GateResults.inconclusive(gate, null, "set maxMs or maxRatio on this latencyP99 gate", at);
    }
    if (canaryCount < needed) {
      return GateResults.inconclusive(gate, firstThreshold, "only " + number(canaryCount)
          + " timed canary requests in this window, need " + needed + " for a p99 (" + canary.coverage() + ")", at);
    }
    double canaryMs = Histograms.quantile(Q, canaryBuckets) * 1000;
    Check absolute = spec.getMaxMs() == null ? null : absolute(canaryMs, spec.getMaxMs());
    double minDeltaMs = spec.getMinDeltaMs() != null ? spec.getMinDeltaMs() : DEFAULT_MIN_DELTA_MS;
    Check ratio = spec.getMaxRatio() == null ? null : ratio(canaryMs, stable, spec.getMaxRatio(), minDeltaMs, needed);

    Check decisive = pick(absolute, ratio);
    String message = decisive.message();
    Check other = decisive == absolute ? ratio : absolute;
    if (other != null) {
      message += "; " + other.message();
    }
    return GateResults.result(gate, decisive.verdict(), decisive.value(), decisive.threshold(), message, at);
  }

  /** The check whose verdict is the gate's: a Fail, else an Inconclusive, else the absolute one. */
  private static Check pick(Check absolute, Check ratio) {
    for (Verdict worst : new Verdict[] {Verdict.Fail, Verdict.Inconclusive}) {
      for (Check check : new Check[] {absolute, ratio}) {
        if (check != null && check.verdict() == worst) {
          return check;
        }
      }
    }
    return absolute != null ? absolute : ratio;
  }

  private static Check absolute(double canaryMs, double maxMs) {
    boolean pass = canaryMs <= maxMs;
    return new Check(pass ? Verdict.Pass : Verdict.Fail, canaryMs, maxMs,
        "canary p99 " + millis(canaryMs) + (pass ? " within " : " above the limit of ") + millis(maxMs));
  }

  private static Check ratio(double canaryMs, RevisionWindow stable, double maxRatio, double minDeltaMs, int needed) {
    if (stable == null) {
      return new Check(Verdict.Inconclusive, null, maxRatio,
          "no stable revision to compare the canary p99 (" + millis(canaryMs) + ") with");
    }
    TreeMap<Double, Double> stableBuckets = stable.latencyBuckets(ServerMetricNames.LATENCY_OUTCOMES);
    double stableCount = count(stableBuckets);
    if (stableCount < needed) {
      return new Check(Verdict.Inconclusive, null, maxRatio, "only " + number(stableCount)
          + " timed stable requests in this window, need " + needed + " to compare p99s ("
          + stable.coverage() + ")");
    }
    double stableMs = Histograms.quantile(Q, stableBuckets) * 1000;
    if (!(stableMs > 0)) {
      return new Check(Verdict.Inconclusive, null, maxRatio, "the stable p99 is 0; no ratio to take");
    }
    double ratio = canaryMs / stableMs;
    boolean withinNoise = canaryMs - stableMs <= minDeltaMs;
    boolean pass = ratio <= maxRatio || withinNoise;
    return new Check(pass ? Verdict.Pass : Verdict.Fail, ratio, maxRatio,
        String.format(Locale.ROOT, "canary p99 %s is %.2fx the stable p99 %s (%s %.2fx%s)", millis(canaryMs),
            ratio, millis(stableMs), ratio <= maxRatio ? "max" : "above the max of", maxRatio,
            withinNoise && ratio > maxRatio ? String.format(Locale.ROOT, ", but within %s of it", millis(minDeltaMs)) : ""));
  }

  /** Requests in a cumulative histogram: its +Inf bucket. */
  private static double count(TreeMap<Double, Double> buckets) {
    Double all = buckets.get(Double.POSITIVE_INFINITY);
    return all == null ? 0 : all;
  }
}
