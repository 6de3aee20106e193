package io.modelship.operator.rollout;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.modelship.operator.revision.PodContract;
import java.util.List;
import java.util.Optional;

/** What pods say about a revision beyond readiness: waiting for GPUs, or crashing. */
public final class PodSignals {
  private PodSignals() {}

  /** Ready (its Ready condition is True) and not on its way out. */
  public static boolean ready(Pod pod) {
    return pod.getStatus() != null && pod.getStatus().getConditions() != null
        && pod.getMetadata().getDeletionTimestamp() == null
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /**
   * A pod the scheduler cannot place for lack of GPUs (whole or MIG): capacity may still come (the cluster
   * autoscaler adds a node), so this is waiting, not failing.
   */
  public static Optional<String> waitingForGpu(List<Pod> pods) {
    return pods.stream()
        .filter(p -> p.getStatus() != null && "Pending".equals(p.getStatus().getPhase()))
        .flatMap(p -> p.getStatus().getConditions() == null ? java.util.stream.Stream.empty() : p.getStatus().getConditions().stream())
        .filter(c -> "PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()) && "Unschedulable".equals(c.getReason()))
        .map(c -> c.getMessage() == null ? "" : c.getMessage())
        .filter(m -> m.contains("nvidia.com/"))
        .findFirst();
  }

  /**
   * Why pods that are scheduled are not ready yet, as a CamelCase reason: the artifact is still downloading, or
   * the model is loading and warming up. Empty when no pod says.
   */
  public static Optional<String> startingReason(List<Pod> pods) {
    boolean fetching = pods.stream()
        .filter(p -> p.getStatus() != null && p.getStatus().getInitContainerStatuses() != null)
        .flatMap(p -> p.getStatus().getInitContainerStatuses().stream())
        .anyMatch(s -> PodContract.FETCH_CONTAINER.equals(s.getName()) && s.getState() != null && s.getState().getRunning() != null);
    if (fetching) {
      return Optional.of("FetchingArtifact");
    }
    boolean warming = pods.stream()
        .filter(p -> p.getStatus() != null && p.getStatus().getContainerStatuses() != null)
        .flatMap(p -> p.getStatus().getContainerStatuses().stream())
        .anyMatch(s -> PodContract.SERVE_CONTAINER.equals(s.getName()) && s.getState() != null
            && s.getState().getRunning() != null && !Boolean.TRUE.equals(s.getReady()));
    return warming ? Optional.of("WarmingUp") : Optional.empty();
  }

  /**
   * Why the Deployment controller cannot create pods at all (a missing PriorityClass, a quota, an admission
   * webhook): the ReplicaFailure condition it sets on the Deployment.
   */
  public static Optional<String> creationFailure(Deployment deployment) {
    var status = deployment.getStatus();
    if (status == null || status.getConditions() == null) {
      return Optional.empty();
    }
    return status.getConditions().stream()
        .filter(c -> "ReplicaFailure".equals(c.getType()) && "True".equals(c.getStatus()))
        .map(c -> "pods cannot be created (" + c.getReason() + "): " + (c.getMessage() == null ? "" : c.getMessage()))
        .findFirst();
  }

  /** A pod the scheduler cannot place, for a reason other than GPUs (those are {@link #waitingForGpu}). */
  public static Optional<String> unschedulable(List<Pod> pods) {
    return pods.stream()
        .filter(p -> p.getStatus() != null && "Pending".equals(p.getStatus().getPhase()))
        .flatMap(p -> p.getStatus().getConditions() == null ? java.util.stream.Stream.empty() : p.getStatus().getConditions().stream())
        .filter(c -> "PodScheduled".equals(c.getType()) && "False".equals(c.getStatus()) && "Unschedulable".equals(c.getReason()))
        .map(c -> c.getMessage() == null ? "no node fits" : c.getMessage())
        .filter(m -> !m.contains("nvidia.com/"))
        .findFirst();
  }

  /** A model-server container the kubelet keeps restarting. */
  public static Optional<String> crashLooping(List<Pod> pods) {
    return pods.stream()
        .filter(p -> p.getStatus() != null && p.getStatus().getContainerStatuses() != null)
        .flatMap(p -> p.getStatus().getContainerStatuses().stream())
        .filter(s -> PodContract.SERVE_CONTAINER.equals(s.getName()))
        .filter(s -> s.getState() != null && s.getState().getWaiting() != null
            && "CrashLoopBackOff".equals(s.getState().getWaiting().getReason()))
        .map(s -> "model-server restarted %d times: %s".formatted(
            s.getRestartCount(), s.getState().getWaiting().getMessage() == null ? "CrashLoopBackOff" : s.getState().getWaiting().getMessage()))
        .findFirst();
  }

  /**
   * A model-server container that has restarted at all: it crashed, was OOM-killed or failed its liveness probe.
   * For a canary that is reason enough to roll back at once, while it restarts (its pod is not ready then, so no
   * gate would look at it until it is back): in the meantime it has failed every request that was in flight.
   */
  public static Optional<String> restarted(List<Pod> pods) {
    return pods.stream()
        .filter(p -> p.getStatus() != null && p.getStatus().getContainerStatuses() != null)
        .flatMap(p -> p.getStatus().getContainerStatuses().stream()
            .filter(s -> PodContract.SERVE_CONTAINER.equals(s.getName()))
            .filter(s -> s.getRestartCount() != null && s.getRestartCount() > 0)
            .map(s -> {
              var terminated = s.getLastState() == null ? null : s.getLastState().getTerminated();
              String how = terminated == null ? "" : " (last exit: %s%s)".formatted(
                  terminated.getReason() == null ? "exit code " + terminated.getExitCode() : terminated.getReason(),
                  terminated.getReason() != null && terminated.getExitCode() != null ? ", exit code " + terminated.getExitCode() : "");
              return "the model-server container of pod %s restarted %d %s%s; see kubectl logs --previous".formatted(
                  p.getMetadata().getName(), s.getRestartCount(), s.getRestartCount() == 1 ? "time" : "times", how);
            }))
        .findFirst();
  }
}
