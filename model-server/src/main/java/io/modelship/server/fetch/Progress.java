package io.modelship.server.fetch;

import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bytes received so far, logged at a fixed interval (percent, MB and MB/s) so a multi-gigabyte init container
 * does not look hung in {@code kubectl logs}.
 */
final class Progress implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Progress.class);
  private static final double MB = 1024.0 * 1024.0;

  private final AtomicLong received = new AtomicLong();
  private final long total;
  private final long startNanos = System.nanoTime();
  private final ScheduledExecutorService ticker;

  /** @param total expected bytes, or -1 when some sizes are unknown (no percent then) */
  Progress(long total, long intervalMillis) {
    this.total = total;
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "fetch-progress");
              thread.setDaemon(true);
              return thread;
            });
    ticker.scheduleAtFixedRate(this::logNow, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
  }

  void add(long bytes) {
    received.addAndGet(bytes);
  }

  long received() {
    return received.get();
  }

  void logNow() {
    log.info("fetch progress: {}", describe());
  }

  String describe() {
    long bytes = received.get();
    double seconds = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
    double rate = bytes / MB / seconds;
    if (total > 0) {
      return String.format(
          Locale.ROOT,
          "%.1f%% (%.1f of %.1f MB) at %.1f MB/s",
          100.0 * bytes / total,
          bytes / MB,
          total / MB,
          rate);
    }
    return String.format(Locale.ROOT, "%.1f MB at %.1f MB/s", bytes / MB, rate);
  }

  @Override
  public void close() {
    ticker.shutdownNow();
  }
}
