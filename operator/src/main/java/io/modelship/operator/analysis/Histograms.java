package io.modelship.operator.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;

/**
 * Quantiles from cumulative histogram buckets, estimated the way Prometheus's {@code histogram_quantile} does, so
 * a gate's p99 matches what a person sees on a dashboard over the same counts: linear interpolation inside the
 * bucket the rank falls in, the lowest bucket starting at 0, and a rank in the +Inf bucket answered with the
 * highest finite bound (the true value is only known to be above it). Pure arithmetic, no state.
 */
public final class Histograms {
  private Histograms() {}

  /**
   * @param q the quantile, 0..1
   * @param cumulative upper bound → cumulative count; must include the +Inf bucket
   * @return the estimate, or NaN when there is nothing to estimate from (no +Inf bucket, no observations)
   */
  public static double quantile(double q, NavigableMap<Double, Double> cumulative) {
    if (Double.isNaN(q) || cumulative.size() < 2 || cumulative.lastKey() != Double.POSITIVE_INFINITY) {
      return Double.NaN;
    }
    List<Double> bounds = new ArrayList<>(cumulative.size());
    List<Double> counts = new ArrayList<>(cumulative.size());
    double running = 0;
    for (Map.Entry<Double, Double> bucket : cumulative.entrySet()) {
      // Buckets summed from separate scrapes can dip by a count or two; a cumulative count never falls.
      running = Math.max(running, bucket.getValue());
      bounds.add(bucket.getKey());
      counts.add(running);
    }
    int last = bounds.size() - 1;
    double observations = counts.get(last);
    if (observations <= 0) {
      return Double.NaN;
    }
    double rank = Math.min(Math.max(q, 0), 1) * observations;
    int b = 0;
    while (counts.get(b) < rank) {
      b++;
    }
    if (b == last) {
      return bounds.get(last - 1);
    }
    if (b == 0 && bounds.get(0) <= 0) {
      return bounds.get(0);
    }
    double start = 0;
    double inBucket = counts.get(b);
    if (b > 0) {
      start = bounds.get(b - 1);
      inBucket -= counts.get(b - 1);
      rank -= counts.get(b - 1);
    }
    return start + (bounds.get(b) - start) * (rank / inBucket);
  }

  /**
   * How many observations were above {@code bound} (in the histogram's unit), interpolating linearly inside the
   * bucket it falls in, as {@link #quantile} does; 0 for an empty histogram. Observations in the +Inf bucket are
   * all above any finite bound past the highest finite one.
   */
  static double countAbove(double bound, NavigableMap<Double, Double> cumulative) {
    if (cumulative.isEmpty() || cumulative.lastKey() != Double.POSITIVE_INFINITY) {
      return 0;
    }
    double total = 0;
    for (double count : cumulative.values()) {
      total = Math.max(total, count);
    }
    double below = 0;
    double start = 0;
    double before = 0;
    for (Map.Entry<Double, Double> bucket : cumulative.entrySet()) {
      double upper = bucket.getKey();
      double running = Math.max(before, bucket.getValue());
      if (bound < upper) {
        if (upper == Double.POSITIVE_INFINITY) {
          below = before;
        } else {
          double share = upper > start ? (bound - start) / (upper - start) : 1;
          below = before + (running - before) * Math.max(0, Math.min(1, share));
        }
        return Math.max(0, total - below);
      }
      start = upper;
      before = running;
    }
    return 0;
  }
}
