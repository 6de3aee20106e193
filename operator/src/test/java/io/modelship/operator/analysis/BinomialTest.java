package io.modelship.operator.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class BinomialTest {
  @Test
  void upperTailMatchesExactSums() {
    // P(X >= 3) for n = 10, p = 0.1: 1 - (0.9^10 + 10 * 0.1 * 0.9^9 + 45 * 0.01 * 0.9^8) = 0.0701908264
    assertThat(Binomial.upperTail(10, 3, 0.1)).isCloseTo(0.0701908264, within(1e-9));
    // Below the mode it is summed from the other side: P(X >= 1) = 1 - 0.9^10.
    assertThat(Binomial.upperTail(10, 1, 0.1)).isCloseTo(1 - Math.pow(0.9, 10), within(1e-12));
    assertThat(Binomial.upperTail(10, 0, 0.1)).isEqualTo(1.0);
    assertThat(Binomial.upperTail(10, 11, 0.1)).isZero();
    assertThat(Binomial.upperTail(200, 200, 0.01)).isCloseTo(Math.pow(0.01, 200), within(1e-300));
  }

  @Test
  void largeCountsNeitherOverflowNorLoseTheTail() {
    // A busy window: 100,000 requests, 1,100 slow against 1%: about 3.2 sigma above the mean.
    double tail = Binomial.upperTail(100_000, 1_100, 0.01);
    assertThat(tail).isBetween(0.0005, 0.002);
  }

  @Test
  void significanceNeedsMoreThanChanceExplains() {
    assertThat(Binomial.significantlyAbove(200, 4, 0.01)).as("4 of 200 against 1%").isFalse();
    assertThat(Binomial.significantlyAbove(500, 50, 0.01)).as("50 of 500 against 1%").isTrue();
    assertThat(Binomial.significantlyAbove(154, 154, 0.02)).isTrue();
    assertThat(Binomial.significantlyAbove(100, 7, 0.06)).as("7% against 5% + 1%").isFalse();
    assertThat(Binomial.significantlyAbove(100, 1, 0.0)).as("nothing was expected: one is already more").isTrue();
    assertThat(Binomial.significantlyAbove(100, 0, 0.0)).isFalse();
  }

  @Test
  void logGammaMatchesFactorials() {
    assertThat(Binomial.logGamma(1)).isCloseTo(0.0, within(1e-12));
    assertThat(Binomial.logGamma(11)).isCloseTo(Math.log(3628800), within(1e-10));
    assertThat(Binomial.logGamma(0.5)).isCloseTo(Math.log(Math.sqrt(Math.PI)), within(1e-12));
  }
}
