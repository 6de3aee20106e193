package io.modelship.server.serve;

import io.modelship.server.serve.batch.BatchObserver;
import java.time.Duration;
import java.util.function.IntConsumer;

/**
 * Seams for tests to hold the server at a known point without sleeping: before each warm-up inference, before
 * each batch runs, and for the pre-drain delay. Production uses {@link #NONE}.
 */
public record ServeHooks(IntConsumer beforeWarmUpIteration, BatchObserver beforeBatch, DrainPause drainPause) {
  public static final ServeHooks NONE = new ServeHooks(iteration -> {}, BatchObserver.NONE);

  public ServeHooks(IntConsumer beforeWarmUpIteration, BatchObserver beforeBatch) {
    this(beforeWarmUpIteration, beforeBatch, DrainPause.WAIT);
  }

  /** How the server spends the pre-drain delay, while readiness is false and requests are still served. */
  @FunctionalInterface
  public interface DrainPause {
    DrainPause WAIT = delay -> Thread.sleep(delay.toMillis());

    void pause(Duration delay) throws InterruptedException;
  }
}
