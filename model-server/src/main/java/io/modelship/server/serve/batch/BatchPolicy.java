package io.modelship.server.serve.batch;

import java.time.Duration;

/**
 * How far dynamic batching may go: at most {@code maxBatchSize} rows per model run, and at most
 * {@code maxDelay} spent waiting for more requests to join a batch. A size of 1 turns batching off.
 */
public record BatchPolicy(int maxBatchSize, Duration maxDelay) {
  /**
   * On CPU a batch of 16 runs a row in half the time a batch of 8 does and spreads the server's per-run work over
   * twice the rows (heavy model at 16 concurrent requests, one core: +25-40% requests/s at a lower p99; the tiny
   * model is indifferent, and one request at a time never forms a batch); the activations of 16 rows are small
   * beside a host's memory. A GPU's memory is scarcer and holds the largest models, so it keeps 8.
   */
  public static final int CPU_MAX_BATCH_SIZE = 16;
  public static final int GPU_MAX_BATCH_SIZE = 8;

  /** The batch limit when none is set: by the device the model runs on. */
  public static int defaultMaxBatchSize(boolean gpu) {
    return gpu ? GPU_MAX_BATCH_SIZE : CPU_MAX_BATCH_SIZE;
  }

  public BatchPolicy {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be at least 1, was " + maxBatchSize);
    }
    if (maxDelay.isNegative()) {
      throw new IllegalArgumentException("maxDelay must not be negative, was " + maxDelay);
    }
  }
}
