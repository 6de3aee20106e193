package io.modelship.operator.testing;

import io.modelship.operator.analysis.AnalysisRequest;
import io.modelship.operator.analysis.CanaryAnalysis;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Gate verdicts a test decides, for scenarios about what the state machine does with them. How verdicts are
 * computed from real metrics is tested on its own (analysis package), against a real model server.
 */
public final class ScriptedAnalysis implements CanaryAnalysis {
  private final AtomicReference<Verdict> verdict = new AtomicReference<>(Verdict.Pass);
  private final AtomicInteger evaluations = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicBoolean decisive = new java.util.concurrent.atomic.AtomicBoolean();

  public void answer(Verdict v) {
    verdict.set(v);
    decisive.set(false);
  }

  /** A Fail too plain to wait for failureLimit: every canary request failing. */
  public void answerDecisiveFail() {
    verdict.set(Verdict.Fail);
    decisive.set(true);
  }

  public int evaluations() {
    return evaluations.get();
  }

  @Override
  public List<GateResultStatus> evaluate(AnalysisRequest request) {
    evaluations.incrementAndGet();
    var result = new GateResultStatus();
    result.setGate("errorRate");
    result.setVerdict(verdict.get());
    result.setThreshold(0.01);
    result.setValue(switch (verdict.get()) {
      case Pass -> 0.0;
      case Fail -> 0.5;
      case Inconclusive -> null;
    });
    result.setMessage(switch (verdict.get()) {
      case Pass -> "0 of 200 requests failed";
      case Fail -> "100 of 200 requests failed";
      case Inconclusive -> "only 3 requests, fewer than minRequests 50";
    });
    result.setAt(request.now().toString());
    if (decisive.get()) {
      result.setDecisive(true);
      result.setValue(1.0);
      result.setMessage("200 of 200 requests failed");
    }
    return List.of(result);
  }
}
