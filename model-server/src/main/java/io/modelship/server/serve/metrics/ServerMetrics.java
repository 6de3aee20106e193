package io.modelship.server.serve.metrics;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The server's Prometheus registry and the meters of each model version it serves. Requests for a model the
 * server does not have are counted under {@link #UNKNOWN}, so a stray client cannot mint label values.
 */
public final class ServerMetrics {
  public static final String UNKNOWN = "_unknown";

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, ModelMetrics> byVersion = new ConcurrentHashMap<>();

  public ModelMetrics model(String model, String version) {
    return byVersion.computeIfAbsent(
        model + '\u0000' + version, key -> new ModelMetrics(registry, model, version));
  }

  /** A version unloaded for good: its series leave /metrics; loaded again, it starts from zero. */
  public void forget(String model, String version) {
    ModelMetrics gone = byVersion.remove(model + '\u0000' + version);
    if (gone != null) {
      gone.remove();
    }
  }

  /**
   * Inference requests between arrival and answer, over every model: what a drain waits for, and the signal an
   * autoscaler can scale on (the requests a pod is holding right now).
   */
  public void watchInFlight(java.util.function.IntSupplier count) {
    io.micrometer.core.instrument.Gauge.builder("modelship.inference.in.flight", count,
            java.util.function.IntSupplier::getAsInt)
        .strongReference(true)
        .description("Inference requests received and not yet answered")
        .register(registry);
  }

  /** The registry itself, for meters that belong to no one model version (shadow traffic's comparisons). */
  public io.micrometer.core.instrument.MeterRegistry registry() {
    return registry;
  }

  public ModelMetrics unknownModel() {
    return model(UNKNOWN, UNKNOWN);
  }

  /** The text exposition format, as {@code GET /metrics} returns it. */
  public String scrape() {
    return registry.scrape();
  }

  public String contentType() {
    return "text/plain; version=0.0.4; charset=utf-8";
  }
}
