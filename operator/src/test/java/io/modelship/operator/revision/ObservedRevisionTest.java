package io.modelship.operator.revision;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class ObservedRevisionTest {
  /** A pod whose fetch step ended with {@code exitCode}; {@code deleting} sets its deletionTimestamp. */
  private static Pod fetched(String name, int exitCode, boolean deleting) {
    return new PodBuilder().withNewMetadata().withName(name)
        .withDeletionTimestamp(deleting ? "2026-12-01T03:08:09Z" : null).endMetadata()
        .withNewStatus().addNewInitContainerStatus().withName(PodContract.FETCH_CONTAINER)
        .withNewState().withNewTerminated().withExitCode(exitCode).endTerminated().endState()
        .endInitContainerStatus().endStatus().build();
  }

  private static ObservedRevision revision(Pod... pods) {
    return new ObservedRevision("69bffa437e",
        new DeploymentBuilder().withNewMetadata().withName("iris-69bffa437e")
            .addToLabels(io.modelship.operator.api.CrdConstants.LABEL_REVISION, "69bffa437e").endMetadata().build(),
        List.of(pods));
  }

  @Test
  void aFetchStoppedInAPodBeingDeletedIsNotAFailureOfTheRevision() {
    // Seen on the real cluster: abort, then retry within a second; the aborted attempt's pod was still terminating.
    assertThat(revision(fetched("iris-69bffa437e-a", 143, true)).fetchFailure()).isEmpty();
    assertThat(revision(fetched("iris-69bffa437e-a", 143, true), fetched("iris-69bffa437e-b", 3, false)).fetchFailure())
        .hasValueSatisfying(why -> assertThat(why).startsWith("fetch exited with code 3 (permanent"));
    assertThat(revision(fetched("iris-69bffa437e-a", 143, false)).fetchFailure())
        .hasValueSatisfying(why -> assertThat(why).startsWith("fetch exited with code 143"));
  }
}
