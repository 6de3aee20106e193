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
 * The latencyP99 gate. Against an absolute bound ({@code maxMs}) it compares the canary's p99 over the window.
 * Against the stable revision ({@code maxRatio}) it compares the two latency distributions of the same window,
 * twice (either failing fails the gate; reasoning in docs/rollout-gates.md):
 * <ul>
 *   <li><b>typical</b>: the canary's median above maxRatio times the stable's and more than minDeltaMs above
 *       it: the new version is slower on most requests. Robust to a few slow requests, and to a CPU-hungry
 *       canary that slows the stable pods beside it too (their tails meet, their medians do not). The floor is
 *       needed: two JVMs serving the same model differ by up to 1.5-2x in median for a model of a few
 *       milliseconds (JIT decisions differ run to run), which is no regression. Slower by more than 1.5 x
 *       maxRatio and by 2 x minDeltaMs is decisive, already in a pod's first window.
 *   <li><b>tail</b>: more canary requests slower than maxRatio times the stable's p99 (and at least minDeltaMs
 *       above it) than chance allows, when a stable request is that slow 1% of the time or less. A p99 from a
 *       few hundred requests is decided by its two or three slowest, so a ratio of two p99s rolled back healthy
 *       canaries that merely had a few slow requests in a window; counting the slow requests and testing the
 *       count does not, and still catches a tail that really moved.
 * </ul>
 * Latency is only counted from canary pods past their first window since turning ready (see {@link MetricWindows}).
 * A Fail on either bound wins over an Inconclusive on the other: it is already a definite answer.
 */
final class LatencyP99 {
  static final String KIND = "latencyP99";
  /** Below this difference in p99 (in ms) a canary is not slower in its tail, whatever the ratio. */
  static final double DEFAULT_MIN_DELTA_MS = 5.0;
  /** The share of stable requests slower than its own p99; the least a slow-request count is tested against. */
  private static final double TAIL_SHARE = 0.01;
  private static final double Q = 0.99;
  /**
   * How far beyond maxRatio (as a factor of it) a median must be for one window to decide. On the real cluster a
   * healthy canary's first warm window once read 2.42x (17.6 ms against 7.3 ms, both slowed by a busy node);
   * a version several times slower read 3.6x and more in the same conditions.
   */
  static final double DECISIVE_RATIO_FACTOR = 1.5;

  private LatencyP99() {}

  private record Check(Verdict verdict, boolean decisive, Double value, Double threshold, String message) {
    static Check of(Verdict verdict, Double value, Double threshold, String message) {
      return new Check(verdict, false, value, threshold, message);
    }
  }

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
      String thin = "only " + number(canaryCount) + " timed canary requests in this window, need " + needed
          + " for a p99 (" + canary.coverage() + ")";
      if (spec.getMaxRatio() != null) {
        Check cold = manyTimesSlowerWhileCold(canary, stable, spec.getMaxRatio(),
            spec.getMinDeltaMs() != null ? spec.getMinDeltaMs() : DEFAULT_MIN_DELTA_MS, needed);
        if (cold != null) {
          return GateResults.decisiveFail(gate, cold.value(), cold.threshold(), cold.message() + "; " + thin, at);
        }
      }
      return GateResults.inconclusive(gate, firstThreshold, thin, at);
    }
    double canaryMs = Histograms.quantile(Q, canaryBuckets) * 1000;
    Check absolute = spec.getMaxMs() == null ? null : absolute(canaryMs, spec.getMaxMs());
    double minDeltaMs = spec.getMinDeltaMs() != null ? spec.getMinDeltaMs() : DEFAULT_MIN_DELTA_MS;
    Check ratio = spec.getMaxRatio() == null ? null
        : ratio(canaryBuckets, canaryMs, stable, spec.getMaxRatio(), minDeltaMs, needed);

    Check decisive = pick(absolute, ratio);
    String message = decisive.message();
    Check other = decisive == absolute ? ratio : absolute;
    if (other != null) {
      message += "; " + other.message();
    }
    return decisive.decisive()
        ? GateResults.decisiveFail(gate, decisive.value(), decisive.threshold(), message, at)
        : GateResults.result(gate, decisive.verdict(), decisive.value(), decisive.threshold(), message, at);
  }

  /**
   * A canary in its first window is not timed, except for this: a median so far above the stable's (more than
   * 1.5 x maxRatio times it, and by 2 x minDeltaMs) that no warm-up explains it. A several-times-slower version is then
   * rolled back one window earlier. Null when that is not the case or there is too little to tell.
   */
  private static Check manyTimesSlowerWhileCold(RevisionWindow canary, RevisionWindow stable, double maxRatio,
      double minDeltaMs, int needed) {
    if (stable == null) {
      return null;
    }
    TreeMap<Double, Double> all = canary.latencyBucketsWithCold(ServerMetricNames.LATENCY_OUTCOMES);
    TreeMap<Double, Double> stableBuckets = stable.latencyBuckets(ServerMetricNames.LATENCY_OUTCOMES);
    if (count(all) < needed || count(stableBuckets) < needed) {
      return null;
    }
    double canaryMedianMs = Histograms.quantile(0.5, all) * 1000;
    double stableMedianMs = Histograms.quantile(0.5, stableBuckets) * 1000;
    double ratio = canaryMedianMs / stableMedianMs;
    if (!(stableMedianMs > 0) || !plainlySlower(ratio, canaryMedianMs - stableMedianMs, maxRatio, minDeltaMs)) {
      return null;
    }
    return new Check(Verdict.Fail, true, ratio, maxRatio, String.format(Locale.ROOT,
        "the canary is much slower on most requests, already in its first window: median %s vs %s on stable "
            + "(%.2fx, max %.2fx)", millis(canaryMedianMs), millis(stableMedianMs), ratio, maxRatio));
  }

  /** Slower beyond doubt in one window: by more than 1.5 x maxRatio, and by 2 x minDeltaMs. */
  private static boolean plainlySlower(double medianRatio, double medianDeltaMs, double maxRatio, double minDeltaMs) {
    return medianRatio > DECISIVE_RATIO_FACTOR * maxRatio && medianDeltaMs >= 2 * minDeltaMs;
  }

  /** The check whose verdict is the gate's: a Fail, else an Inconclusive, else the absolute one. */
  private static Check pick(Check absolute, Check ratio) {
    for (Verdict worst : new Verdict[] {Verdict.Fail, Verdict.Inconclusive}) {
      for (Check check : new Check[] {ratio, absolute}) {
        if (check != null && check.verdict() == worst) {
          return check;
        }
      }
    }
    return absolute != null ? absolute : ratio;
  }

  private static Check absolute(double canaryMs, double maxMs) {
    boolean pass = canaryMs <= maxMs;
    return Check.of(pass ? Verdict.Pass : Verdict.Fail, canaryMs, maxMs,
        "canary p99 " + millis(canaryMs) + (pass ? " within " : " above the limit of ") + millis(maxMs));
  }

  private static Check ratio(TreeMap<Double, Double> canaryBuckets, double canaryMs, RevisionWindow stable,
      double maxRatio, double minDeltaMs, int needed) {
    if (stable == null) {
      return Check.of(Verdict.Inconclusive, null, maxRatio,
          "no stable revision to compare the canary p99 (" + millis(canaryMs) + ") with");
    }
    TreeMap<Double, Double> stableBuckets = stable.latencyBuckets(ServerMetricNames.LATENCY_OUTCOMES);
    double stableCount = count(stableBuckets);
    double canaryCount = count(canaryBuckets);
    if (stableCount < needed) {
      return Check.of(Verdict.Inconclusive, null, maxRatio, "only " + number(stableCount)
          + " timed stable requests in this window, need " + needed + " to compare latencies ("
          + stable.coverage() + ")");
    }
    double stableMs = Histograms.quantile(Q, stableBuckets) * 1000;
    double canaryMedianMs = Histograms.quantile(0.5, canaryBuckets) * 1000;
    double stableMedianMs = Histograms.quantile(0.5, stableBuckets) * 1000;
    if (!(stableMs > 0) || !(stableMedianMs > 0)) {
      return Check.of(Verdict.Inconclusive, null, maxRatio, "the stable latency is 0; no ratio to take");
    }
    double ratio = canaryMs / stableMs;
    String p99s = String.format(Locale.ROOT, "p99 %s vs %s on stable (%.2fx)", millis(canaryMs), millis(stableMs), ratio);

    double medianRatio = canaryMedianMs / stableMedianMs;
    double medianDelta = canaryMedianMs - stableMedianMs;
    String medians = String.format(Locale.ROOT, "median %s vs %s on stable (%.2fx)", millis(canaryMedianMs),
        millis(stableMedianMs), medianRatio);
    if (medianRatio > maxRatio && medianDelta > minDeltaMs) {
      boolean plain = plainlySlower(medianRatio, medianDelta, maxRatio, minDeltaMs);
      return new Check(Verdict.Fail, plain, medianRatio, maxRatio, String.format(Locale.ROOT,
          "the canary is slower on most requests: %s, above the max of %.2fx; %s", medians, maxRatio, p99s));
    }

    // The tail: how many canary requests were slower than the stable lets itself be 1% of the time.
    double slowMs = Math.max(maxRatio * stableMs, stableMs + minDeltaMs);
    double canarySlow = Histograms.countAbove(slowMs / 1000, canaryBuckets);
    double stableShare = Histograms.countAbove(slowMs / 1000, stableBuckets) / stableCount;
    double expected = Math.max(TAIL_SHARE, stableShare);
    boolean slowTail = Binomial.significantlyAbove(canaryCount, canarySlow, expected);
    String tail = String.format(Locale.ROOT, "%s of %s canary requests slower than %s (%s; %s expected by chance)",
        number(Math.floor(canarySlow)), number(canaryCount), millis(slowMs), percent(canarySlow / canaryCount),
        percent(expected));
    if (slowTail) {
      return Check.of(Verdict.Fail, ratio, maxRatio,
          "the canary's slowest requests are slower: " + tail + "; " + p99s + "; " + medians);
    }
    return Check.of(Verdict.Pass, ratio, maxRatio, p99s + ", " + medians + "; " + tail);
  }

  private static String percent(double share) {
    return String.format(Locale.ROOT, "%.1f%%", share * 100);
  }

  /** Requests in a cumulative histogram: its +Inf bucket. */
  private static double count(TreeMap<Double, Double> buckets) {
    Double all = buckets.get(Double.POSITIVE_INFINITY);
    return all == null ? 0 : all;
  }
}
