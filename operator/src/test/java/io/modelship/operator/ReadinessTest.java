package io.modelship.operator;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.modelship.operator.testing.TestClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** /readyz rides out a watch reconnect, and says why whenever its answer changes. */
class ReadinessTest {
  private static final Duration GRACE = Duration.ofSeconds(30);
  private static final String DEPLOYMENTS = "modeldeployment/DeploymentInformer";

  private final TestClock clock = new TestClock(Instant.parse("2026-11-24T10:00:00Z"));
  private final FakeHealth health = new FakeHealth();
  private final Readiness readiness = new Readiness(health, clock, GRACE);
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  private ch.qos.logback.classic.Logger logger;

  @BeforeEach
  void captureLog() {
    logger = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Readiness.class);
    logged.start();
    logger.addAppender(logged);
  }

  @AfterEach
  void releaseLog() {
    logger.detachAppender(logged);
  }

  @Test
  void readyOnceStartedWithEveryEventSourceHealthy() {
    assertThat(readiness.isReady()).isFalse();
    health.started = true;
    assertThat(readiness.isReady()).isTrue();
    assertThat(readiness.isReady()).isTrue();
    assertThat(lines()).containsExactly(
        "INFO not ready yet: the operator is not started",
        "INFO ready: started, every event source healthy");
  }

  @Test
  void aWatchThatReconnectsWithinTheGraceNeverMakesItUnready() {
    health.started = true;
    assertThat(readiness.isReady()).isTrue();
    for (int reconnect = 0; reconnect < 3; reconnect++) {
      health.unhealthy.put(DEPLOYMENTS, "all namespaces: not watching");
      assertThat(readiness.isReady()).isTrue();
      clock.advance(GRACE.minusSeconds(1));
      assertThat(readiness.isReady()).as("unhealthy for 29s in reconnect %d", reconnect).isTrue();
      health.unhealthy.clear();
      assertThat(readiness.isReady()).isTrue();
      // Each reconnect gets the whole grace: the time unhealthy does not add up across healthy spells.
      clock.advance(Duration.ofMinutes(5));
    }
    assertThat(lines()).containsExactly("INFO ready: started, every event source healthy");
  }

  @Test
  void unhealthyForLongerThanTheGraceIsUnreadyAndNamesTheEventSource() {
    health.started = true;
    assertThat(readiness.isReady()).isTrue();
    health.unhealthy.put(DEPLOYMENTS, "all namespaces: not watching");
    assertThat(readiness.isReady()).isTrue();
    clock.advance(GRACE);
    assertThat(readiness.isReady()).as("exactly the grace").isTrue();
    clock.advance(Duration.ofSeconds(1));
    assertThat(readiness.isReady()).isFalse();
    assertThat(readiness.isReady()).isFalse();

    health.unhealthy.clear();
    assertThat(readiness.isReady()).isTrue();
    assertThat(lines()).containsExactly(
        "INFO ready: started, every event source healthy",
        "WARN not ready: event sources unhealthy for 31s without a break: "
            + "modeldeployment/DeploymentInformer (all namespaces: not watching)",
        "INFO ready: started, every event source healthy");
  }

  @Test
  void theGraceOnlyCoversAnOperatorThatWasReady() {
    health.started = true;
    health.unhealthy.put(DEPLOYMENTS, "namespace ml: not synced");
    assertThat(readiness.isReady()).isFalse();
    assertThat(lines()).containsExactly(
        "INFO not ready yet: event sources unhealthy: modeldeployment/DeploymentInformer (namespace ml: not synced)");
  }

  @Test
  void aStoppedOperatorIsUnreadyAtOnce() {
    health.started = true;
    assertThat(readiness.isReady()).isTrue();
    health.started = false;
    assertThat(readiness.isReady()).isFalse();
    assertThat(lines()).last().isEqualTo("INFO not ready: the operator is stopping");
  }

  private List<String> lines() {
    return logged.list.stream()
        .filter(e -> e.getLevel().isGreaterOrEqual(Level.INFO))
        .map(e -> e.getLevel() + " " + e.getFormattedMessage())
        .toList();
  }

  private static final class FakeHealth implements Readiness.Health {
    volatile boolean started;
    final Map<String, String> unhealthy = new ConcurrentHashMap<>();

    @Override
    public boolean started() {
      return started;
    }

    @Override
    public Map<String, String> unhealthy() {
      return Map.copyOf(unhealthy);
    }
  }
}
