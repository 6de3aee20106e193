package io.modelship.operator.analysis;

import static io.modelship.operator.analysis.GateResults.number;
import static io.modelship.operator.analysis.GateResults.percent;

import io.modelship.operator.analysis.MetricWindows.RevisionWindow;
import io.modelship.operator.api.spec.GateSpec;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import java.time.Instant;

/**
 * The errorRate gate: the canary's failed requests over the window, three ways.
 * <ul>
 *   <li><b>No success at all</b>: a window in which the canary answered requests and none succeeded fails,
 *       however few they were, unless the stable revision did no better over the same window (then the clients
 *       are at fault). With minRequests of them or more it is a decisive failure.
 *   <li><b>Server errors</b> (5xx): more than {@code max} of the canary's requests. Half or more is decisive.
 *   <li><b>Client errors</b> (4xx) the stable revision does not produce: bad input is the caller's fault and
 *       looks the same on both revisions, so the canary's share of 4xx is compared with the stable's over the
 *       same window; more than {@code max} above it, by more than chance explains ({@link Binomial}), fails.
 *       A new version that expects another input schema answers every request with a 400: the most common
 *       way a new model version breaks. Half or more while the stable refuses under a tenth is decisive.
 * </ul>
 * Rejections under overload are left out of both sides (see {@link ServerMetricNames#NOT_JUDGED_OUTCOMES}).
 */
final class ErrorRate {
  static final String KIND = "errorRate";
  /** A share of failures that is no longer a matter of degree: the canary is broken for most of its callers. */
  private static final double PLAIN_SHARE = 0.5;

  private ErrorRate() {}

  static GateResultStatus judge(String gate, GateSpec.ErrorRateGate spec, RevisionWindow canary,
      RevisionWindow stable, int minRequests, Instant at) {
    double max = spec.getMax() == null ? MetricsCanaryAnalysis.DEFAULT_MAX_ERROR_RATE : spec.getMax();
    int needed = Math.max(minRequests, 1);
    double all = canary.requestsExcept(ServerMetricNames.NOT_JUDGED_OUTCOMES);
    double rejected = canary.requests(ServerMetricNames.NOT_JUDGED_OUTCOMES);
    String shed = rejected > 0 ? "; " + number(rejected) + " more rejected as overload (503), not counted" : "";
    double serverErrors = canary.requests(ServerMetricNames.ERROR_OUTCOMES);
    double clientErrors = canary.requests(ServerMetricNames.CLIENT_ERROR_OUTCOMES);
    double successes = canary.requests(ServerMetricNames.SUCCESS_OUTCOMES);

    double stableAll = stable == null ? 0 : stable.requestsExcept(ServerMetricNames.NOT_JUDGED_OUTCOMES);
    double stableSuccesses = stable == null ? 0 : stable.requests(ServerMetricNames.SUCCESS_OUTCOMES);
    double stableClientErrors = stable == null ? 0 : stable.requests(ServerMetricNames.CLIENT_ERROR_OUTCOMES);
    if (all > 0 && successes == 0 && (stableAll == 0 || stableSuccesses > 0)) {
      String message = "none of the " + number(all) + " canary requests succeeded (" + number(clientErrors)
          + " refused with a 4xx, " + number(serverErrors) + " failed with a 5xx)"
          + (stableAll > 0 ? " while the stable answered " + percent(stableSuccesses / stableAll) + " of "
              + number(stableAll) + " successfully" : "")
          + "; see the canary pods' model-server logs" + shed;
      return all >= needed
          ? GateResults.decisiveFail(gate, 1.0, max, message, at)
          : GateResults.result(gate, Verdict.Fail, 1.0, max, message, at);
    }
    // "No requests" is NaN, not a 0% error rate: an idle canary has proven nothing.
    if (all < needed) {
      return GateResults.inconclusive(gate, max, "only " + number(all) + " canary requests in this window, "
          + "need " + needed + " to judge the error rate (" + canary.coverage() + ")" + shed, at);
    }

    double serverRate = serverErrors / all;
    if (serverRate > max) {
      String message = "too many server errors: " + number(serverErrors) + " of " + number(all)
          + " canary requests failed with a 5xx (" + percent(serverRate) + ", max " + percent(max)
          + "); see the canary pods' model-server logs" + shed;
      return serverRate >= PLAIN_SHARE
          ? GateResults.decisiveFail(gate, serverRate, max, message, at)
          : GateResults.result(gate, Verdict.Fail, serverRate, max, message, at);
    }

    double clientRate = clientErrors / all;
    // Without a stable window to compare with, every 4xx is taken as the clients' (the stable's rate is unknown).
    boolean compared = stableAll >= needed;
    double stableClientRate = compared ? stableClientErrors / stableAll : clientRate;
    double allowed = Math.min(1.0, stableClientRate + max);
    String clients = number(clientErrors) + " of " + number(all) + " canary requests refused with a 4xx ("
        + percent(clientRate) + ")" + (compared ? " against " + percent(stableClientRate) + " of "
            + number(stableAll) + " on stable" : "");
    if (compared && clientRate - stableClientRate > max && Binomial.significantlyAbove(all, clientErrors, allowed)) {
      String message = "the canary refuses requests the stable accepts: " + clients + ", max " + percent(max)
          + " more; the new version may expect other inputs (see the canary pods' model-server logs)" + shed;
      return clientRate >= PLAIN_SHARE && stableClientRate < 0.1
          ? GateResults.decisiveFail(gate, clientRate - stableClientRate, max, message, at)
          : GateResults.result(gate, Verdict.Fail, clientRate - stableClientRate, max, message, at);
    }
    String message = number(serverErrors) + " of " + number(all) + " canary requests failed with a 5xx ("
        + percent(serverRate) + ", max " + percent(max) + "); " + clients + shed;
    return GateResults.result(gate, Verdict.Pass, serverRate, max, message, at);
  }
}
