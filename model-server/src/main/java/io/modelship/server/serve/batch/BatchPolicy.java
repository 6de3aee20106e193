package io.modelship.server.serve.batch;

import java.time.Duration;

/**
 * How far dynamic batching may go: at most {@code maxBatchSize} rows per model run, and at most
 * {@code maxDelay} spent waiting for more requests to join a batch. A size of 1 turns batching off.
 */
public record BatchPolicy(int maxBatchSize, Duration maxDelay) {

  public BatchPolicy {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be at least 1, was " + maxBatchSize);
    }
    if (maxDelay.isNegative()) {
      throw new IllegalArgumentException("maxDelay must not be negative, was " + maxDelay);
    }
  }
}
