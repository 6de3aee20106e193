package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What warm-up says about the JIT: whether the request path was still being compiled when it ended. */
class HttpWarmUpTest {
  @Test
  void compilersBarelyBusyInTheLastPhaseMeanSteady() {
    assertThat(HttpWarmUp.jitReport(1_000, 1_040, 2_000))
        .isEqualTo("; in its second half (2000 ms) JIT compilations ran for 40 ms (2%): steady");
  }

  @Test
  void compilersStillBusyAreReportedAsSuch() {
    assertThat(HttpWarmUp.jitReport(1_000, 1_600, 2_000))
        .contains("ran for 600 ms (30%)", "still compiling");
  }

  @Test
  void nothingIsClaimedWhenTheJvmDoesNotMeasureCompilation() {
    assertThat(HttpWarmUp.jitReport(-1, -1, 2_000)).isEmpty();
    assertThat(HttpWarmUp.jitReport(10, 20, 0)).isEmpty();
  }
}
