package io.modelship.operator.analysis;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import io.modelship.operator.revision.PodContract;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The built-in restarts gate: any restart of a canary pod's model-server container fails it. A restart means a
 * crash or a failed liveness probe (an OOM on a bigger model, a CUDA error), and it also resets the counters the
 * other gates read, hiding the requests that went wrong. Reads only the pods it is given.
 */
final class Restarts {
  static final String GATE = "restarts";

  private Restarts() {}

  static GateResultStatus judge(List<Pod> canaryPods, Instant at) {
    return judge(canaryPods, java.util.Optional.empty(), at);
  }

  /**
   * With {@code since}, only restarts that ended after it count: an in-place canary runs in pods that may have
   * restarted long before it was loaded.
   */
  static GateResultStatus judge(List<Pod> canaryPods, java.util.Optional<Instant> since, Instant at) {
    if (canaryPods == null || canaryPods.isEmpty()) {
      return GateResults.inconclusive(GATE, 0.0, "no canary pods to check for restarts yet", at);
    }
    int total = 0;
    List<String> restarted = new ArrayList<>();
    for (Pod pod : canaryPods) {
      int restarts = since.isPresent() ? restartsSince(pod, since.get()) : restarts(pod);
      total += restarts;
      if (restarts > 0) {
        restarted.add(pod.getMetadata().getName() + " (" + restarts + ")");
      }
    }
    if (total == 0) {
      return GateResults.result(GATE, Verdict.Pass, 0.0, 0.0,
          "no restarts of the model-server container in " + canaryPods.size() + " canary pods", at);
    }
    // Decisive: a crash is no matter of degree, and the restart has just wiped the counters the other gates read.
    return GateResults.decisiveFail(GATE, (double) total, 0.0,
        "canary model-server restarted " + total + " times: " + String.join(", ", restarted)
            + "; see kubectl logs --previous and the pods' last state", at);
  }

  /** One when the model-server container last terminated after {@code since}: the kubelet keeps only the last. */
  private static int restartsSince(Pod pod, Instant since) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return 0;
    }
    return (int) pod.getStatus().getContainerStatuses().stream()
        .filter(s -> PodContract.SERVE_CONTAINER.equals(s.getName()))
        .filter(s -> s.getLastState() != null && s.getLastState().getTerminated() != null)
        .map(s -> s.getLastState().getTerminated().getFinishedAt())
        .filter(finished -> finished != null && !Instant.parse(finished).isBefore(since))
        .count();
  }

  private static int restarts(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return 0;
    }
    return pod.getStatus().getContainerStatuses().stream()
        .filter(s -> PodContract.SERVE_CONTAINER.equals(s.getName()))
        .map(ContainerStatus::getRestartCount)
        .filter(count -> count != null)
        .mapToInt(Integer::intValue)
        .sum();
  }
}
