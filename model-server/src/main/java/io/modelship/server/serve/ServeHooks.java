package io.modelship.server.serve;

import io.modelship.server.serve.batch.BatchObserver;
import java.util.function.IntConsumer;

/**
 * Seams for tests to hold the server at a known point without sleeping: before each warm-up inference, and
 * before each batch runs. Production uses {@link #NONE}.
 */
public record ServeHooks(IntConsumer beforeWarmUpIteration, BatchObserver beforeBatch) {
  public static final ServeHooks NONE = new ServeHooks(iteration -> {}, BatchObserver.NONE);
}
