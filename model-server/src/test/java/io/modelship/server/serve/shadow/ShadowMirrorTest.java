package io.modelship.server.serve.shadow;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The mirror's bounds, without workers (nothing leaves the queue), so each offer's fate is decided by the bounds
 * alone: a full queue, too many queued bytes, the per-second cap.
 */
class ShadowMirrorTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private static ShadowMirror.Target target(int maxPerSecond) {
    return new ShadowMirror.Target(URI.create("http://127.0.0.1:1"), 1.0, "c1", Optional.empty(), 1e-3,
        Duration.ofSeconds(1), maxPerSecond);
  }

  private double outcome(String outcome) {
    var counter = registry.find("modelship.shadow.requests").tag("outcome", outcome).counter();
    return counter == null ? 0 : counter.count();
  }

  private double queued() {
    return registry.get("modelship.shadow.queued").gauge().value();
  }

  @Test
  void aFullQueueDropsAndCountsInsteadOfWaiting() {
    try (ShadowMirror mirror = new ShadowMirror(registry, 0, 2, 1 << 20)) {
      mirror.set(target(1_000));
      for (int i = 0; i < 5; i++) {
        mirror.offer("m", "1", new byte[10], Map.of(), List.of());
      }
      assertThat(queued()).isEqualTo(2);
      assertThat(outcome("dropped")).isEqualTo(3);
    }
  }

  @Test
  void queuedBytesAreBoundedToo() {
    try (ShadowMirror mirror = new ShadowMirror(registry, 0, 100, 25)) {
      mirror.set(target(1_000));
      for (int i = 0; i < 4; i++) {
        mirror.offer("m", "1", new byte[10], Map.of(), List.of());
      }
      assertThat(queued()).isEqualTo(2);
      assertThat(outcome("dropped")).isEqualTo(2);
    }
  }

  @Test
  void beyondTheCapASampleIsLimitedNotQueued() {
    try (ShadowMirror mirror = new ShadowMirror(registry, 0, 100, 1 << 20)) {
      mirror.set(target(3));
      for (int i = 0; i < 10; i++) {
        mirror.offer("m", "1", new byte[10], Map.of(), List.of());
      }
      // The ten offers span at most two seconds: at most six pass the cap.
      assertThat(queued()).isBetween(3.0, 6.0);
      assertThat(outcome("limited") + queued()).isEqualTo(10);
    }
  }

  @Test
  void offMeansNothingIsOffered() {
    try (ShadowMirror mirror = new ShadowMirror(registry, 0, 100, 1 << 20)) {
      mirror.offer("m", "1", new byte[10], Map.of(), List.of());
      mirror.set(target(1_000));
      mirror.off();
      mirror.offer("m", "1", new byte[10], Map.of(), List.of());
      assertThat(queued()).isZero();
    }
  }
}
