package io.modelship.server.serve.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntSupplier;

/**
 * The meters of one model version, every one tagged with {@code model} and {@code version} so the operator can
 * compare a canary with its stable revision series by series. Names and buckets here are what the operator's
 * gates query; change them together with the operator.
 */
public final class ModelMetrics {
  /**
   * Request latency buckets, from a tiny model on a CPU to a large one on a busy GPU, each about a quarter above
   * the one before: the operator's latency gate compares quantiles of two revisions, and a quantile is only as
   * fine as the bucket it falls in (with 2 ms and 5 ms as neighbours a 2.1 ms p99 and a 4.9 ms one read alike,
   * and a few slow requests move it by 2.5x).
   */
  private static final Duration[] LATENCY_BUCKETS = micros(250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000,
      4000, 5000, 6000, 8000, 10000, 13000, 16000, 20000, 25000, 32000, 40000, 50000, 65000, 80000, 100000,
      130000, 160000, 200000, 250000, 320000, 400000, 500000, 650000, 800000, 1000000, 1300000, 1600000,
      2000000, 2500000, 5000000, 10000000);
  /** Time in the batching queue is usually far below a millisecond; these buckets show where it is not. */
  private static final Duration[] QUEUE_BUCKETS = micros(50, 100, 250, 500, 1000, 2000, 5000, 10000, 25000,
      50000, 100000, 250000, 1000000);
  private static final double[] BATCH_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256};

  private final Map<Outcome, Counter> requests = new EnumMap<>(Outcome.class);
  private final Map<Outcome, Timer> latency = new EnumMap<>(Outcome.class);
  private final Timer queueTime;
  private final Timer computeTime;
  private final DistributionSummary batchSize;
  private final AtomicLong loadMillis = new AtomicLong(-1);
  private final AtomicLong warmUpMillis = new AtomicLong(-1);
  private final AtomicLong ready = new AtomicLong();
  private final MeterRegistry registry;
  private final Tags tags;

  ModelMetrics(MeterRegistry registry, String model, String version) {
    this.registry = registry;
    this.tags = Tags.of("model", model, "version", version);
    for (Outcome outcome : Outcome.values()) {
      Tags withOutcome = tags.and("outcome", outcome.label());
      // Registered up front so that rate() over a canary that has seen no errors yet reads 0, not "no data".
      requests.put(outcome,
          Counter.builder("modelship.inference.requests")
              .description("Inference requests by outcome")
              .tags(withOutcome)
              .register(registry));
      latency.put(outcome,
          Timer.builder("modelship.inference.latency")
              .description("Inference request latency, from the request's arrival to the response's end")
              .tags(withOutcome)
              .serviceLevelObjectives(LATENCY_BUCKETS)
              .register(registry));
    }
    queueTime =
        Timer.builder("modelship.inference.queue")
            .description("Time a request waited in the batching queue before its batch ran")
            .tags(tags)
            .serviceLevelObjectives(QUEUE_BUCKETS)
            .register(registry);
    computeTime =
        Timer.builder("modelship.inference.compute")
            .description("Time the model took to run one batch")
            .tags(tags)
            .serviceLevelObjectives(LATENCY_BUCKETS)
            .register(registry);
    batchSize =
        DistributionSummary.builder("modelship.inference.batch.size")
            .description("Rows per model run after dynamic batching")
            .tags(tags)
            .serviceLevelObjectives(BATCH_BUCKETS)
            .register(registry);
    Gauge.builder("modelship.model.load", loadMillis, v -> seconds(v.get()))
        .description("Seconds the model took to load; -1 until loaded")
        .baseUnit("seconds")
        .tags(tags)
        .register(registry);
    Gauge.builder("modelship.model.warmup", warmUpMillis, v -> seconds(v.get()))
        .description("Seconds warm-up took before the model was ready; -1 until warmed up")
        .baseUnit("seconds")
        .tags(tags)
        .register(registry);
    Gauge.builder("modelship.model.ready", ready, AtomicLong::get)
        .description("1 while the model version is ready to serve, else 0")
        .tags(tags)
        .register(registry);
  }

  /** Exposes how many requests wait in the model version's batching queue. */
  public void watchQueueDepth(IntSupplier depth) {
    // Micrometer holds a gauge's state weakly; nothing else holds this supplier, so without a strong reference
    // the gauge reads NaN after the next garbage collection.
    Gauge.builder("modelship.inference.queue.depth", depth, IntSupplier::getAsInt)
        .strongReference(true)
        .description("Requests waiting in the batching queue")
        .tags(tags)
        .register(registry);
  }

  public void request(Outcome outcome, long nanos) {
    requests.get(outcome).increment();
    latency.get(outcome).record(nanos, TimeUnit.NANOSECONDS);
  }

  public void queued(long nanos) {
    queueTime.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void batch(int rows, long computeNanos) {
    batchSize.record(rows);
    computeTime.record(computeNanos, TimeUnit.NANOSECONDS);
  }

  public void loaded(Duration took) {
    loadMillis.set(took.toMillis());
  }

  public void warmedUp(Duration took) {
    warmUpMillis.set(took.toMillis());
  }

  public void ready(boolean isReady) {
    ready.set(isReady ? 1 : 0);
  }

  /**
   * Removes every meter of this version from the registry: a version unloaded in place leaves no series behind
   * (a pod that goes through many versions would otherwise expose them all), and nothing of it is held any more
   * (the queue-depth gauge holds its queue strongly).
   */
  void remove() {
    String model = tags.stream().filter(t -> t.getKey().equals("model")).findFirst().orElseThrow().getValue();
    String version = tags.stream().filter(t -> t.getKey().equals("version")).findFirst().orElseThrow().getValue();
    for (var meter : List.copyOf(registry.getMeters())) {
      if (model.equals(meter.getId().getTag("model")) && version.equals(meter.getId().getTag("version"))) {
        registry.remove(meter);
      }
    }
  }

  private static double seconds(long millis) {
    return millis < 0 ? -1 : millis / 1000.0;
  }

  private static Duration[] micros(long... values) {
    Duration[] durations = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      durations[i] = Duration.ofNanos(values[i] * 1000);
    }
    return durations;
  }
}
