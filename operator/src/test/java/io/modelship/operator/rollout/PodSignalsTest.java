package io.modelship.operator.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class PodSignalsTest {

  @Test
  void aRunningFetchStepMeansTheArtifactIsDownloading() {
    Pod pod = new PodBuilder().withNewStatus().withPhase("Pending")
        .withInitContainerStatuses(new ContainerStatusBuilder().withName("fetch").withNewState().withNewRunning().endRunning().endState().build())
        .endStatus().build();
    assertThat(PodSignals.startingReason(List.of(pod))).contains("FetchingArtifact");
  }

  @Test
  void aRunningButUnreadyModelServerIsWarmingUp() {
    Pod pod = new PodBuilder().withNewStatus().withPhase("Running")
        .withContainerStatuses(new ContainerStatusBuilder().withName("model-server").withReady(false)
            .withNewState().withNewRunning().endRunning().endState().build())
        .endStatus().build();
    assertThat(PodSignals.startingReason(List.of(pod))).contains("WarmingUp");
    assertThat(PodSignals.crashLooping(List.of(pod))).isEmpty();
  }

  @Test
  void onlyGpuShortagesCountAsWaitingForCapacity() {
    Pod gpu = unschedulable("0/3 nodes are available: 3 Insufficient nvidia.com/gpu.");
    Pod mig = unschedulable("0/2 nodes are available: 2 Insufficient nvidia.com/mig-1g.5gb.");
    Pod cpu = unschedulable("0/3 nodes are available: 3 Insufficient cpu.");
    assertThat(PodSignals.waitingForGpu(List.of(gpu))).isPresent();
    assertThat(PodSignals.waitingForGpu(List.of(mig))).isPresent();
    assertThat(PodSignals.waitingForGpu(List.of(cpu))).isEmpty();
  }

  @Test
  void aModelServerInCrashLoopBackOffIsCrashing() {
    Pod pod = new PodBuilder().withNewStatus().withPhase("Running")
        .withContainerStatuses(new ContainerStatusBuilder().withName("model-server").withRestartCount(4)
            .withNewState().withNewWaiting().withReason("CrashLoopBackOff").withMessage("back-off 40s").endWaiting().endState().build())
        .endStatus().build();
    assertThat(PodSignals.crashLooping(List.of(pod))).hasValueSatisfying(m -> assertThat(m).contains("restarted 4 times"));
  }

  @Test
  void oneRestartOfTheModelServerIsNamedWithHowItEnded() {
    Pod killed = new PodBuilder().withNewMetadata().withName("iris-b-1").endMetadata().withNewStatus().withPhase("Running")
        .withContainerStatuses(new ContainerStatusBuilder().withName("model-server").withRestartCount(1)
            .withNewLastState().withNewTerminated().withReason("OOMKilled").withExitCode(137).endTerminated().endLastState()
            .withNewState().withNewRunning().endRunning().endState().build())
        .endStatus().build();
    Pod fresh = new PodBuilder().withNewMetadata().withName("iris-b-2").endMetadata().withNewStatus().withPhase("Running")
        .withContainerStatuses(new ContainerStatusBuilder().withName("model-server").withRestartCount(0).build())
        .endStatus().build();

    assertThat(PodSignals.restarted(List.of(fresh))).isEmpty();
    assertThat(PodSignals.restarted(List.of(fresh, killed))).contains(
        "the model-server container of pod iris-b-1 restarted 1 time (last exit: OOMKilled, exit code 137); see kubectl logs --previous");
  }

  private static Pod unschedulable(String message) {
    return new PodBuilder().withNewStatus().withPhase("Pending")
        .withConditions(new PodConditionBuilder().withType("PodScheduled").withStatus("False").withReason("Unschedulable").withMessage(message).build())
        .endStatus().build();
  }
}
