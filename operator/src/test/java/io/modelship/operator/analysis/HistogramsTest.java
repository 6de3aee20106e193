package io.modelship.operator.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class HistogramsTest {
  private static final double INF = Double.POSITIVE_INFINITY;

  private static TreeMap<Double, Double> buckets(double... boundThenCount) {
    TreeMap<Double, Double> buckets = new TreeMap<>();
    for (int i = 0; i < boundThenCount.length; i += 2) {
      buckets.put(boundThenCount[i], boundThenCount[i + 1]);
    }
    return buckets;
  }

  @Test
  void interpolatesInsideTheBucketTheRankFallsIn() {
    // 100 observations: 50 ≤ 10ms, 90 ≤ 50ms, 100 ≤ 100ms. Rank 99 is the 9th of the 10 in (0.05, 0.1]:
    // 0.05 + 0.05 * 9/10 = 0.095.
    assertThat(Histograms.quantile(0.99, buckets(0.01, 50, 0.05, 90, 0.1, 100, INF, 100)))
        .isCloseTo(0.095, within(1e-12));
    // Rank 50 sits at the top of the first bucket, which starts at 0: 0 + 0.01 * 50/50.
    assertThat(Histograms.quantile(0.5, buckets(0.01, 50, 0.05, 90, 0.1, 100, INF, 100)))
        .isCloseTo(0.01, within(1e-12));
    // 200 observations all in the lowest bucket: rank 198 of 200 → 0.001 * 0.99.
    assertThat(Histograms.quantile(0.99, buckets(0.001, 200, 0.002, 200, INF, 200)))
        .isCloseTo(0.00099, within(1e-12));
  }

  @Test
  void aRankInTheInfBucketAnswersTheHighestFiniteBound() {
    // 10 of 100 slower than 10 s: p99 is only known to be above 10 s.
    assertThat(Histograms.quantile(0.99, buckets(5.0, 80, 10.0, 90, INF, 100))).isEqualTo(10.0);
  }

  @Test
  void nothingToEstimateFromIsNaN() {
    assertThat(Histograms.quantile(0.99, buckets(0.1, 0, INF, 0))).isNaN();
    assertThat(Histograms.quantile(0.99, buckets(0.1, 5, 1.0, 5))).as("no +Inf bucket").isNaN();
    assertThat(Histograms.quantile(0.99, buckets(INF, 5))).as("a single bucket").isNaN();
  }

  @Test
  void aCountThatDipsAcrossBucketsIsTreatedAsFlat() {
    // 0.05 shows 89 after 0.01's 90 (summed across pods scraped at slightly different moments): read as 90.
    assertThat(Histograms.quantile(0.99, buckets(0.01, 90, 0.05, 89, 0.1, 100, INF, 100)))
        .isCloseTo(0.05 + 0.05 * 9 / 10, within(1e-12));
  }

  @Test
  void countAboveInterpolatesInsideItsBucketLikeTheQuantile() {
    TreeMap<Double, Double> h = buckets(0.01, 50, 0.05, 90, 0.1, 100, INF, 100);
    // 10 in (0.05, 0.1]: above 0.095 are the last tenth of them.
    assertThat(Histograms.countAbove(0.095, h)).isCloseTo(1.0, within(1e-9));
    assertThat(Histograms.countAbove(0.05, h)).isCloseTo(10.0, within(1e-9));
    assertThat(Histograms.countAbove(0.0, h)).isCloseTo(100.0, within(1e-9));
    assertThat(Histograms.countAbove(0.2, h)).isZero();
    // Past the highest finite bound only the +Inf bucket is left.
    assertThat(Histograms.countAbove(20.0, buckets(5.0, 80, 10.0, 90, INF, 100))).isCloseTo(10.0, within(1e-9));
    assertThat(Histograms.countAbove(0.01, new TreeMap<>())).isZero();
  }
}
