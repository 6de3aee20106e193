package io.modelship.server.serve.batch;

import io.modelship.server.serve.model.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One request waiting in a {@link BatchQueue}: its inputs in declaration order, how many rows it adds to a
 * batch (-1 when it must run alone), when it was queued, and the future its outputs complete.
 */
final class PendingInference {
  final List<Tensor> inputs;
  final int rows;
  /** Rows it takes up in the queue's bound: its first dimension, or 1 when its inputs do not share one. */
  final int queueRows;
  final long queuedAt;
  final boolean warmUp;
  final CompletableFuture<List<Tensor>> result = new CompletableFuture<>();

  PendingInference(List<Tensor> inputs, boolean modelBatchable, boolean warmUp) {
    this.inputs = List.copyOf(inputs);
    int common = commonRows(inputs);
    this.rows = modelBatchable ? common : -1;
    this.queueRows = Math.max(common, 1);
    this.queuedAt = System.nanoTime();
    this.warmUp = warmUp;
  }

  /** The shared first dimension of all inputs, or -1 when they do not share one and cannot be batched. */
  private static int commonRows(List<Tensor> inputs) {
    long rows = -1;
    for (Tensor input : inputs) {
      long own = input.rows();
      if (own < 1 || (rows >= 0 && own != rows) || own > Integer.MAX_VALUE) {
        return -1;
      }
      rows = own;
    }
    return (int) rows;
  }

  boolean batchable() {
    return rows > 0;
  }

  /** Whether this request may share a model run with {@code other}: same dims after the first, input by input. */
  boolean sameRowShape(PendingInference other) {
    for (int i = 0; i < inputs.size(); i++) {
      long[] mine = inputs.get(i).shape();
      long[] theirs = other.inputs.get(i).shape();
      if (!Arrays.equals(mine, 1, mine.length, theirs, 1, theirs.length)) {
        return false;
      }
    }
    return true;
  }
}
