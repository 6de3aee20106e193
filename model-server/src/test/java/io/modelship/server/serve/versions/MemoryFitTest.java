package io.modelship.server.serve.versions;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fit check reads a cgroup v2 memory controller as the kernel lays it out; here, one written to a temp dir. */
class MemoryFitTest {
  private static final long MIB = 1024 * 1024;
  @TempDir Path cgroup;

  private MemoryFit limitedTo(long max, long current, long inactiveFile) throws Exception {
    Files.writeString(cgroup.resolve("memory.max"), max + "\n");
    Files.writeString(cgroup.resolve("memory.current"), current + "\n");
    Files.writeString(cgroup.resolve("memory.stat"), "anon 1\nfile 2\ninactive_file " + inactiveFile + "\nactive_file 3\n");
    return new MemoryFit(Optional.empty(), cgroup);
  }

  @Test
  void aContainerLimitLeavesRoomForTwiceTheFileAndTheReserve() throws Exception {
    // 1 GiB limit, 700 MiB in use of which 100 MiB is page cache that can go: 424 MiB available.
    MemoryFit fit = limitedTo(1024 * MIB, 700 * MIB, 100 * MIB);
    assertThat(fit.hostAvailable()).hasValue(424 * MIB);
    assertThat(fit.refusal("v2", 150 * MIB, 0, false)).isEmpty();
    Optional<String> refusal = fit.refusal("v2", 200 * MIB, 0, false);
    assertThat(refusal).get().asString().contains("version v2 needs about 400.0 MiB", "424.0 MiB available",
        "memory limit");
  }

  @Test
  void withoutALimitTheHostsAvailableMemoryCounts() throws Exception {
    Files.writeString(cgroup.resolve("memory.max"), "max\n");
    Files.writeString(cgroup.resolve("memory.current"), "5\n");
    MemoryFit fit = new MemoryFit(Optional.empty(), cgroup);
    assertThat(fit.hostAvailable()).isPresent();
    assertThat(fit.refusal("v2", 1, 0, false)).isEmpty();
    assertThat(fit.refusal("v2", Long.MAX_VALUE / 4, 0, false)).isPresent();
  }

  @Test
  void aBudgetCountsEveryVersionHeld() {
    MemoryFit fit = new MemoryFit(Optional.of(100 * MIB), cgroup);
    assertThat(fit.refusal("v2", 20 * MIB, 30 * MIB, false)).isEmpty();
    assertThat(fit.refusal("v2", 20 * MIB, 31 * MIB, false)).get().asString()
        .contains("needs about 40.0 MiB", "the 62.0 MiB the versions held take", "100.0 MiB (--memory-budget-mib)");
  }
}
