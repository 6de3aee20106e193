package io.modelship.server.serve.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.modelship.server.serve.model.Tensor;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shadow traffic: a share of the inference requests this server answers is sent again, after the caller has its
 * answer, to another endpoint (a canary revision's Service), and the two answers are compared. The caller never
 * waits for the mirror and never sees it fail: offering a request is a bounded, non-blocking enqueue, and a full
 * queue (by count or by bytes) drops the sample and counts it. The comparison is exported as metrics labelled with
 * both versions, which is what the operator's prediction-agreement gate reads:
 * {@code modelship_shadow_rows_total}, {@code modelship_shadow_agreeing_rows_total},
 * {@code modelship_shadow_mean_abs_diff}, {@code modelship_shadow_max_rel_diff} and
 * {@code modelship_shadow_requests_total{outcome=compared|failed|dropped|limited|paused|skipped}}: limited
 * past the per-second cap, paused while a target that failed five times in a row is left alone (1 s, doubling
 * up to 8 s), so a dead or refusing canary costs no connection attempt per request.
 */
public final class ShadowMirror implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShadowMirror.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  static final int DEFAULT_WORKERS = 4;
  static final int DEFAULT_CAPACITY = 256;
  /** Bodies kept waiting for the mirror, at most: a burst of large requests cannot take the heap. */
  static final long DEFAULT_MAX_QUEUED_BYTES = 32L * 1024 * 1024;
  /**
   * Failures in a row after which the target is left alone for a while: 1 s, doubling up to 8 s, short enough
   * that a canary that was briefly unreachable is judged again within seconds.
   */
  static final int FAILURES_BEFORE_PAUSE = 5;
  static final long MAX_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(8);

  /**
   * Where mirrored requests go and how they are judged.
   *
   * @param endpoint base URL of the other server, e.g. http://iris-3f2a1b.ml:8080
   * @param share fraction of requests mirrored, 0 to 1
   * @param version the other side's version, a label value of the comparison metrics
   * @param output the output compared; empty: the first one
   * @param tolerance relative difference under which a one-value row agrees
   * @param timeout how long one mirrored request may take
   * @param maxPerSecond the most requests mirrored per second: the mirror's cost to this server stays bounded
   *     whatever the load, and a gate needs far fewer samples than a busy pod answers
   */
  public record Target(URI endpoint, double share, String version, Optional<String> output, double tolerance,
      Duration timeout, int maxPerSecond) {}

  private record Job(Target target, String model, String version, byte[] body, Map<String, String> headers,
      List<Tensor> outputs) {}

  private final MeterRegistry registry;
  private final BlockingQueue<Job> queue;
  private final long maxQueuedBytes;
  private final AtomicLong queuedBytes = new AtomicLong();
  private final List<Thread> workers = new ArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(1)).build();
  private volatile Target target;
  private volatile boolean closed;
  /** The rate limit: the second it counts, and the requests mirrored in it. */
  private final AtomicLong second = new AtomicLong();
  private final AtomicLong inSecond = new AtomicLong();
  /** Failures in a row, and until when (System.nanoTime) a failing target is left alone. */
  private final AtomicLong failuresInRow = new AtomicLong();
  private volatile long pausedUntil;

  public ShadowMirror(MeterRegistry registry) {
    this(registry, DEFAULT_WORKERS, DEFAULT_CAPACITY, DEFAULT_MAX_QUEUED_BYTES);
  }

  ShadowMirror(MeterRegistry registry, int workers, int capacity, long maxQueuedBytes) {
    this.registry = registry;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.maxQueuedBytes = maxQueuedBytes;
    Gauge.builder("modelship.shadow.queued", queue, BlockingQueue::size)
        .description("Mirrored requests waiting to be sent").register(registry);
    for (int i = 0; i < workers; i++) {
      Thread worker = new Thread(this::work, "shadow-mirror-" + i);
      worker.setDaemon(true);
      worker.start();
      this.workers.add(worker);
    }
  }

  public void set(Target target) {
    failuresInRow.set(0);
    pausedUntil = System.nanoTime();
    this.target = target;
    LOG.info("mirroring {}% of requests to {} (version {})", target.share() * 100, target.endpoint(), target.version());
  }

  public void off() {
    if (target != null) {
      LOG.info("mirroring off");
    }
    target = null;
  }

  public Optional<Target> current() {
    return Optional.ofNullable(target);
  }

  /**
   * Called with every answered request, on the caller's path: decides by the share whether to mirror it, and
   * enqueues it without waiting. Never throws.
   */
  public void offer(String model, String version, byte[] body, Map<String, String> headers, List<Tensor> outputs) {
    Target t = target;
    if (t == null || closed || (t.share() < 1.0 && ThreadLocalRandom.current().nextDouble() >= t.share())) {
      return;
    }
    long now = System.nanoTime();
    if (now - pausedUntil < 0) {
      outcome(model, version, t, "paused").increment();
      return;
    }
    long thisSecond = TimeUnit.NANOSECONDS.toSeconds(now);
    if (second.getAndSet(thisSecond) != thisSecond) {
      inSecond.set(0);
    }
    if (inSecond.incrementAndGet() > t.maxPerSecond()) {
      outcome(model, version, t, "limited").increment();
      return;
    }
    if (queuedBytes.addAndGet(body.length) > maxQueuedBytes) {
      queuedBytes.addAndGet(-body.length);
      outcome(model, version, t, "dropped").increment();
      return;
    }
    if (!queue.offer(new Job(t, model, version, body, headers, outputs))) {
      queuedBytes.addAndGet(-body.length);
      outcome(model, version, t, "dropped").increment();
    }
  }

  private void work() {
    while (!closed) {
      Job job;
      try {
        job = queue.poll(200, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        return;
      }
      if (job == null) {
        continue;
      }
      queuedBytes.addAndGet(-job.body().length);
      try {
        if (System.nanoTime() - pausedUntil < 0) {
          outcome(job.model(), job.version(), job.target(), "paused").increment();
        } else if (mirror(job)) {
          failuresInRow.set(0);
        } else {
          failed();
        }
      } catch (RuntimeException e) {
        outcome(job.model(), job.version(), job.target(), "failed").increment();
        failed();
        LOG.debug("mirroring failed", e);
      }
    }
  }

  /** A target that keeps failing (down, refusing) is left alone for a while instead of costing a connect per request. */
  private void failed() {
    long inRow = failuresInRow.incrementAndGet();
    if (inRow >= FAILURES_BEFORE_PAUSE) {
      long pause = Math.min(MAX_PAUSE_NANOS, TimeUnit.SECONDS.toNanos(1) << Math.min(inRow - FAILURES_BEFORE_PAUSE, 3));
      pausedUntil = System.nanoTime() + pause;
    }
  }

  /** @return false when the target failed (no answer, or not a 200): a failure of the target, not of the comparison */
  private boolean mirror(Job job) {
    Target t = job.target();
    HttpRequest.Builder request = HttpRequest.newBuilder(t.endpoint().resolve("/v2/models/" + job.model() + "/infer"))
        .timeout(t.timeout())
        .POST(HttpRequest.BodyPublishers.ofByteArray(job.body()));
    job.headers().forEach(request::header);
    HttpResponse<byte[]> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      outcome(job.model(), job.version(), t, "failed").increment();
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return true;
    }
    if (response.statusCode() != 200) {
      outcome(job.model(), job.version(), t, "failed").increment();
      return false;
    }
    byte[] body = response.body();
    int jsonLength = response.headers().firstValue("Inference-Header-Content-Length")
        .map(Integer::parseInt).orElse(body.length);
    JsonNode answer;
    try {
      answer = JSON.readTree(body, 0, Math.min(jsonLength, body.length));
    } catch (IOException e) {
      outcome(job.model(), job.version(), t, "failed").increment();
      return true;
    }
    Optional<Comparison> compared = Comparison.of(job.outputs(), answer, t.output(), t.tolerance());
    if (compared.isEmpty()) {
      outcome(job.model(), job.version(), t, "skipped").increment();
      return true;
    }
    Comparison c = compared.get();
    String[] tags = {"model", job.model(), "version", job.version(), "shadow_version", t.version()};
    Counter.builder("modelship.shadow.rows").tags(tags)
        .description("Rows of mirrored requests whose answers were compared").register(registry).increment(c.rows());
    Counter.builder("modelship.shadow.agreeing.rows").tags(tags)
        .description("Compared rows whose top-1 answer agreed").register(registry).increment(c.agreeing());
    DistributionSummary.builder("modelship.shadow.mean.abs.diff").tags(tags)
        .description("Mean absolute difference between the two answers, per mirrored request")
        .register(registry).record(c.meanAbsDiff());
    DistributionSummary.builder("modelship.shadow.max.rel.diff").tags(tags)
        .description("Largest relative difference between the two answers, per mirrored request")
        .register(registry).record(c.maxRelDiff());
    outcome(job.model(), job.version(), t, "compared").increment();
    return true;
  }

  private Counter outcome(String model, String version, Target t, String outcome) {
    return Counter.builder("modelship.shadow.requests")
        .tags("model", model, "version", version, "shadow_version", t.version(), "outcome", outcome)
        .description("Requests offered to the mirror, by what became of them")
        .register(registry);
  }

  @Override
  public void close() {
    closed = true;
    target = null;
    workers.forEach(Thread::interrupt);
  }
}
