package io.modelship.server.serve.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ModelMetricsTest {

  @Test
  void queueDepthStillReadsAfterGarbageCollection() {
    var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    var depth = new AtomicInteger(7);
    // The supplier is a fresh lambda nobody else holds, as in BatchQueue: only the gauge keeps it alive.
    new ModelMetrics(registry, "iris", "1").watchQueueDepth(() -> depth.get());
    for (int i = 0; i < 5; i++) {
      System.gc();
    }
    assertThat(registry.get("modelship.inference.queue.depth").tag("model", "iris").gauge().value()).isEqualTo(7.0);
  }
}
