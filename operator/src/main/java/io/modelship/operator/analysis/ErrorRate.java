package io.modelship.operator.analysis;

import static io.modelship.operator.analysis.GateResults.number;
import static io.modelship.operator.analysis.GateResults.percent;

import io.modelship.operator.analysis.MetricWindows.RevisionWindow;
import io.modelship.operator.api.spec.GateSpec;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import java.time.Instant;

/**
 * The errorRate gate: the canary's share of requests that failed on the server's side over the window. Client
 * errors (4xx) are in the denominator only: bad input is the caller's fault and looks the same on both revisions.
 * Rejections under overload are left out of both sides (see {@link ServerMetricNames#NOT_JUDGED_OUTCOMES}).
 */
final class ErrorRate {
  static final String KIND = "errorRate";

  private ErrorRate() {}

  static GateResultStatus judge(
      String gate, GateSpec.ErrorRateGate spec, RevisionWindow canary, int minRequests, Instant at) {
    double max = spec.getMax() == null ? MetricsCanaryAnalysis.DEFAULT_MAX_ERROR_RATE : spec.getMax();
    double all = canary.requestsExcept(ServerMetricNames.NOT_JUDGED_OUTCOMES);
    double rejected = canary.requests(ServerMetricNames.NOT_JUDGED_OUTCOMES);
    String shed = rejected > 0 ? "; " + number(rejected) + " more rejected as overload (503), not counted" : "";
    // "No requests" is NaN, not a 0% error rate: an idle canary has proven nothing.
    if (all < Math.max(minRequests, 1)) {
      return GateResults.inconclusive(gate, max, "only " + number(all) + " canary requests in this window, "
          + "need " + Math.max(minRequests, 1) + " to judge the error rate (" + canary.coverage() + ")" + shed, at);
    }
    double errors = canary.requests(ServerMetricNames.ERROR_OUTCOMES);
    double rate = errors / all;
    boolean pass = rate <= max;
    String message = (pass ? "" : "too many server errors: ") + number(errors) + " of " + number(all)
        + " canary requests failed with a 5xx (" + percent(rate) + ", max " + percent(max) + ")"
        + (pass ? "" : "; see the canary pods' model-server logs") + shed;
    return GateResults.result(gate, pass ? Verdict.Pass : Verdict.Fail, rate, max, message, at);
  }
}
