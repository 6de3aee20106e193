package io.modelship.operator;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The verdict behind /readyz. An informer whose watch reconnects (the apiserver ends every watch after a few
 * minutes) reports unhealthy for a moment; that is normal, and a probe that caught it would take the pod out of
 * its Service and, with several replicas, hold up a rolling update for nothing. So once ready, the operator stays
 * ready until its event sources have been unhealthy for longer than a grace period without a break. Every change of
 * the verdict is logged with the event sources behind it, so a 503 never goes unexplained.
 *
 * <p>Never ready before the operator has started: the grace only covers a process that has been ready.
 */
public final class Readiness {
  /** Longer than a watch takes to reconnect, shorter than the probe's patience (3 failures, 5 s apart) plus it. */
  public static final Duration DEFAULT_GRACE = Duration.ofSeconds(30);
  private static final Logger log = LoggerFactory.getLogger(Readiness.class);

  /** What readiness is judged on; read at every probe. */
  public interface Health {
    boolean started();

    /** The event sources unhealthy right now, by name, each with what is wrong; empty when all are healthy. */
    Map<String, String> unhealthy();
  }

  private final Health health;
  private final Clock clock;
  private final Duration grace;
  /** The last verdict; null before the first probe. */
  private Boolean verdict;
  /** Since when the event sources have been unhealthy without a break; null while they are healthy. */
  private Instant unhealthySince;

  public Readiness(Health health, Clock clock, Duration grace) {
    this.health = health;
    this.clock = clock;
    this.grace = grace;
  }

  public synchronized boolean isReady() {
    Instant now = clock.instant();
    if (!health.started()) {
      unhealthySince = null;
      // Before the start, and while stopping: both expected, neither worth a warning.
      become(false, verdict == null ? "the operator is not started" : "the operator is stopping", false);
      return false;
    }
    Map<String, String> unhealthy = health.unhealthy();
    if (unhealthy.isEmpty()) {
      if (unhealthySince != null && isVerdict(true)) {
        log.debug("event sources healthy again after {} ms", Duration.between(unhealthySince, now).toMillis());
      }
      unhealthySince = null;
      become(true, "started, every event source healthy", false);
      return true;
    }
    if (unhealthySince == null) {
      unhealthySince = now;
      if (isVerdict(true)) {
        log.debug("event sources unhealthy, still ready for up to {}s while they recover: {}",
            grace.toSeconds(), describe(unhealthy));
      }
    }
    Duration unhealthyFor = Duration.between(unhealthySince, now);
    if (!isVerdict(true)) {
      become(false, "event sources unhealthy: " + describe(unhealthy), true);
    } else if (unhealthyFor.compareTo(grace) > 0) {
      become(false, "event sources unhealthy for " + unhealthyFor.toSeconds() + "s without a break: "
          + describe(unhealthy), true);
    }
    return verdict;
  }

  private boolean isVerdict(boolean value) {
    return verdict != null && verdict == value;
  }

  /** Records the verdict, and logs it when it changed. */
  private void become(boolean next, String reason, boolean problem) {
    if (verdict != null && verdict == next) {
      return;
    }
    if (next) {
      log.info("ready: {}", reason);
    } else if (verdict == null) {
      log.info("not ready yet: {}", reason);
    } else if (problem) {
      log.warn("not ready: {}", reason);
    } else {
      log.info("not ready: {}", reason);
    }
    verdict = next;
  }

  private static String describe(Map<String, String> unhealthy) {
    return unhealthy.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .map(e -> e.getKey() + " (" + e.getValue() + ")")
        .collect(Collectors.joining(", "));
  }
}
