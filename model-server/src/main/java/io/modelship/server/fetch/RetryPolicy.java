package io.modelship.server.fetch;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * In-process retries with exponential backoff and jitter for what a later attempt may fix. Once they run out the
 * failure stays retryable, so the exit code (4) tells the operator that a new pod may still succeed.
 */
record RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay) {

  private static final Logger log = LoggerFactory.getLogger(RetryPolicy.class);

  static final RetryPolicy DEFAULT = new RetryPolicy(5, Duration.ofMillis(500), Duration.ofSeconds(20));

  RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1");
    }
  }

  /** Runs the action, retrying retryable failures; {@code what} names it in the log ("GET s3://b/k part 3"). */
  <T> T call(String what, Supplier<T> action) {
    for (int attempt = 1; ; attempt++) {
      try {
        return action.get();
      } catch (FetchFailure failure) {
        if (!failure.isRetryable() || attempt >= maxAttempts) {
          throw failure;
        }
        Duration delay = delayBefore(attempt + 1);
        log.warn(
            "{} failed (attempt {}/{}), retrying in {} ms: {}",
            what,
            attempt,
            maxAttempts,
            delay.toMillis(),
            failure.getMessage());
        pause(delay);
      }
    }
  }

  /** Exponential, capped, with "equal jitter" so parallel parts that failed together do not retry in lockstep. */
  Duration delayBefore(int attempt) {
    long exponential = baseDelay.toMillis() << Math.min(attempt - 2, 20);
    long capped = Math.min(maxDelay.toMillis(), Math.max(0, exponential));
    long half = capped / 2;
    return Duration.ofMillis(half + (half == 0 ? 0 : ThreadLocalRandom.current().nextLong(half + 1)));
  }

  private static void pause(Duration delay) {
    try {
      Thread.sleep(delay.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FetchFailure.retryable("interrupted while waiting to retry");
    }
  }
}
