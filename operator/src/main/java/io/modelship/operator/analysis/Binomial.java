package io.modelship.operator.analysis;

/**
 * The one statistical test the gates share: how likely it is to see at least {@code k} "bad" requests out of
 * {@code n} if each were bad with probability {@code p} only. A gate compares a canary's count of errors (or of
 * slow requests) with the rate the stable revision shows, and fails only when chance cannot explain the
 * difference: a handful of unlucky requests in a thin window does not roll back a healthy canary, while a canary
 * that fails most requests is caught in its first window. Pure arithmetic.
 */
final class Binomial {
  /**
   * The chance below which a difference counts as real. One in a thousand per window keeps a healthy canary's
   * false alarms to about one in several hundred rollouts even over many windows and two gates (and a failure
   * needs failureLimit windows in a row), while 10 bad requests in 60 against a 1% rate are already past it.
   */
  static final double SIGNIFICANCE = 0.001;

  private Binomial() {}

  /** P(X >= k) for X ~ Binomial(n, p); n and k are counts, rounded down. */
  static double upperTail(double n, double k, double p) {
    long trials = (long) Math.floor(n);
    long successes = (long) Math.ceil(k);
    if (successes <= 0) {
      return 1.0;
    }
    if (successes > trials) {
      return 0.0;
    }
    if (p <= 0) {
      return 0.0;
    }
    if (p >= 1) {
      return 1.0;
    }
    double mode = (trials + 1) * p;
    if (successes <= mode) {
      // At or below the expected count the tail is large; the test only ever asks about counts above it.
      return Math.min(1.0, 1.0 - upperTailBelowMode(trials, successes, p));
    }
    // Above the mode each term is smaller than the one before, so the sum converges quickly.
    double logP = Math.log(p);
    double logQ = Math.log1p(-p);
    double sum = 0;
    for (long i = successes; i <= trials; i++) {
      double term = Math.exp(logChoose(trials, i) + i * logP + (trials - i) * logQ);
      sum += term;
      if (term < sum * 1e-12) {
        break;
      }
    }
    return Math.min(1.0, sum);
  }

  /** True when {@code k} of {@code n} is significantly more than a rate of {@code p} would give. */
  static boolean significantlyAbove(double n, double k, double p) {
    return k > n * p && upperTail(n, k, p) < SIGNIFICANCE;
  }

  /** P(X < k) summed from below, for k at or below the mode. */
  private static double upperTailBelowMode(long n, long k, double p) {
    double logP = Math.log(p);
    double logQ = Math.log1p(-p);
    double sum = 0;
    for (long i = k - 1; i >= 0; i--) {
      double term = Math.exp(logChoose(n, i) + i * logP + (n - i) * logQ);
      sum += term;
      if (term < sum * 1e-12) {
        break;
      }
    }
    return sum;
  }

  private static double logChoose(long n, long k) {
    return logGamma(n + 1.0) - logGamma(k + 1.0) - logGamma(n - k + 1.0);
  }

  private static final double[] LANCZOS = {
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};

  /** ln Γ(x) for x ≥ 0.5, by the Lanczos approximation (g = 7), good to about 15 digits. */
  static double logGamma(double x) {
    double z = x - 1;
    double series = LANCZOS[0];
    for (int i = 1; i < LANCZOS.length; i++) {
      series += LANCZOS[i] / (z + i);
    }
    double t = z + 7.5;
    return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(series);
  }
}
