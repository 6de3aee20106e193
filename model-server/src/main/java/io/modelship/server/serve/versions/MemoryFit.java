package io.modelship.server.serve.versions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether one more model version fits beside those held, decided before it is loaded. A version is counted as
 * twice its {@code .onnx} file: ONNX Runtime holds the weights and, while it builds the session, a second copy.
 * Host memory is what {@code --memory-budget-mib} leaves, or else what the container's cgroup limit (or the host)
 * has available; GPU memory, when the versions run on a GPU, is what {@code nvidia-smi} reports free.
 */
final class MemoryFit {
  private static final Logger LOG = LoggerFactory.getLogger(MemoryFit.class);
  static final int FACTOR = 2;
  /** Kept free for the JVM, the batch buffers and requests in flight. */
  static final long RESERVE = 64L * 1024 * 1024;

  private final Optional<Long> budget;
  private final Path cgroupRoot;

  MemoryFit(Optional<Long> budget) {
    this(budget, Path.of("/sys/fs/cgroup"));
  }

  MemoryFit(Optional<Long> budget, Path cgroupRoot) {
    this.budget = budget;
    this.cgroupRoot = cgroupRoot;
  }

  static long estimate(long onnxBytes) {
    return FACTOR * onnxBytes;
  }

  /**
   * Why a version whose file is {@code newBytes} does not fit beside versions whose files add up to
   * {@code heldBytes}; empty when it fits.
   */
  Optional<String> refusal(String version, long newBytes, long heldBytes, boolean gpu) {
    long needed = estimate(newBytes);
    if (budget.isPresent()) {
      long held = estimate(heldBytes);
      if (held + needed > budget.get()) {
        return Optional.of(String.format(Locale.ROOT,
            "version %s needs about %s (twice its %s model file) beside the %s the versions held take; the memory"
                + " budget is %s (--memory-budget-mib)", version, mib(needed), mib(newBytes), mib(held),
            mib(budget.get())));
      }
    } else {
      OptionalLong available = hostAvailable();
      if (available.isPresent() && needed > available.getAsLong() - RESERVE) {
        return Optional.of(String.format(Locale.ROOT,
            "version %s needs about %s (twice its %s model file) beside the version it would replace; the"
                + " container has %s available, %s of it kept free; raise the memory limit, or roll out with new"
                + " pods", version, mib(needed), mib(newBytes), mib(Math.max(0, available.getAsLong())),
            mib(RESERVE)));
      }
    }
    if (gpu) {
      OptionalLong free = gpuFree();
      if (free.isPresent() && needed > free.getAsLong()) {
        return Optional.of(String.format(Locale.ROOT,
            "version %s needs about %s of GPU memory (twice its %s model file); the GPU has %s free", version,
            mib(needed), mib(newBytes), mib(free.getAsLong())));
      }
    }
    return Optional.empty();
  }

  /**
   * Memory the process may still take: the cgroup's limit less what it uses (page cache that can be dropped not
   * counted), or the host's MemAvailable without a limit.
   */
  OptionalLong hostAvailable() {
    try {
      Path max = cgroupRoot.resolve("memory.max");
      Path current = cgroupRoot.resolve("memory.current");
      if (Files.isReadable(max) && Files.isReadable(current)) {
        String limit = Files.readString(max).strip();
        if (!limit.equals("max")) {
          long used = Long.parseLong(Files.readString(current).strip()) - statValue("inactive_file");
          return OptionalLong.of(Long.parseLong(limit) - Math.max(0, used));
        }
      }
      Path meminfo = Path.of("/proc/meminfo");
      if (Files.isReadable(meminfo)) {
        for (String line : Files.readAllLines(meminfo)) {
          if (line.startsWith("MemAvailable:")) {
            return OptionalLong.of(Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024);
          }
        }
      }
    } catch (IOException | NumberFormatException e) {
      LOG.warn("cannot read how much memory is available ({}); loading without a host memory check",
          e.getMessage());
    }
    return OptionalLong.empty();
  }

  private long statValue(String key) throws IOException {
    Path stat = cgroupRoot.resolve("memory.stat");
    if (!Files.isReadable(stat)) {
      return 0;
    }
    for (String line : Files.readAllLines(stat)) {
      if (line.startsWith(key + " ")) {
        return Long.parseLong(line.substring(key.length() + 1).strip());
      }
    }
    return 0;
  }

  /** Free memory of GPU 0 by {@code nvidia-smi}; empty when it cannot be asked. */
  static OptionalLong gpuFree() {
    try {
      Process process = new ProcessBuilder(List.of("nvidia-smi", "--id=0", "--query-gpu=memory.free",
          "--format=csv,noheader,nounits")).redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes()).strip();
      if (!process.waitFor(10, TimeUnit.SECONDS) || process.exitValue() != 0) {
        process.destroyForcibly();
        return OptionalLong.empty();
      }
      return OptionalLong.of(Long.parseLong(out.lines().findFirst().orElse("").strip()) * 1024 * 1024);
    } catch (IOException | NumberFormatException e) {
      LOG.warn("cannot ask nvidia-smi for free GPU memory ({}); loading without a GPU memory check",
          e.getMessage());
      return OptionalLong.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return OptionalLong.empty();
    }
  }

  static String mib(long bytes) {
    return String.format(Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
  }
}
