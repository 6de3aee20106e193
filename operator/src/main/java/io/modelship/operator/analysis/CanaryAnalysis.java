package io.modelship.operator.analysis;

import io.modelship.operator.api.status.GateResultStatus;
import java.util.List;

/**
 * Judges a canary against its gates over the window since its previous evaluation. Too little traffic is
 * Inconclusive, never Pass; a metric source that does not answer is Inconclusive, never Fail. Implementations
 * must bound every network call in time and never throw: a broken gate yields a verdict with a message.
 */
public interface CanaryAnalysis {
  List<GateResultStatus> evaluate(AnalysisRequest request);

  /** Forgets what it remembers of a ModelDeployment's pods (its windows), e.g. after promotion or rollback. */
  default void forget(String namespace, String modelDeployment) {}
}
