package io.modelship.operator.bench;

import io.modelship.operator.bench.BenchCluster.BenchPod;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Real {@code /v2/models/{m}/infer} traffic for one ModelDeployment, split the way a {@code service}-mode
 * Service splits it: each request goes to a ready pod picked uniformly at random among both revisions' pods, so
 * the canary's share is its share of ready pods (its effective weight). Base load comes from a few paced workers
 * (exponential think time, about {@code rate} requests/s in all); on top of it, random bursts of extra
 * back-to-back clients make the latency noisy. Stops by itself at its deadline; every thread is a daemon.
 */
final class LoadGenerator implements AutoCloseable {

  /** Load shape. Bursts: every U(everyMin, everyMax) ms, with probability {@code burstChance}, U(min, max) extra clients for U(min, max) ms. */
  record Shape(int baseWorkers, double rate, double burstChance, int burstEveryMinMs, int burstEveryMaxMs,
      int burstMinClients, int burstMaxClients, int burstMinMs, int burstMaxMs) {

    String describe() {
      return String.format(java.util.Locale.ROOT,
          "%d paced workers at ~%.0f req/s total; every %d-%d ms a burst with p=%.2f of %d-%d extra back-to-back clients for %d-%d ms",
          baseWorkers, rate, burstEveryMinMs, burstEveryMaxMs, burstChance, burstMinClients, burstMaxClients,
          burstMinMs, burstMaxMs);
    }
  }

  /** What one revision's pods got from this generator. */
  static final class RevisionCounts {
    final LongAdder requests = new LongAdder();
    final LongAdder ok = new LongAdder();
    final LongAdder serverErrors = new LongAdder();
    final LongAdder otherStatus = new LongAdder();
    final LongAdder transportErrors = new LongAdder();
    final AtomicLong firstSendNanos = new AtomicLong(Long.MAX_VALUE);
    final AtomicLong lastSendNanos = new AtomicLong(Long.MIN_VALUE);
    /** Sends with the failing body: the user-visible damage of a bad canary. */
    final LongAdder failingSends = new LongAdder();
    final AtomicLong firstFailingSendNanos = new AtomicLong(Long.MAX_VALUE);
    final AtomicLong lastFailingSendNanos = new AtomicLong(Long.MIN_VALUE);
  }

  private final BenchCluster cluster;
  private final String mdep;
  private final Shape shape;
  private final long deadlineNanos;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  private final ExecutorService base;
  private final ExecutorService bursts;
  private final Thread burster;
  private volatile boolean stopped;
  private final Map<String, RevisionCounts> counts = new ConcurrentHashMap<>();
  private final LongAdder total = new LongAdder();
  private final AtomicInteger burstsFired = new AtomicInteger();

  /** Requests to pods of any revision but this one get the failing body (every one a 500), when set. */
  private volatile String onlyHealthyRevision;

  LoadGenerator(BenchCluster cluster, String mdep, Shape shape, Duration maxRun) {
    this.cluster = cluster;
    this.mdep = mdep;
    this.shape = shape;
    this.deadlineNanos = System.nanoTime() + maxRun.toNanos();
    this.base = Executors.newFixedThreadPool(shape.baseWorkers(), daemon("load-" + mdep));
    this.bursts = Executors.newFixedThreadPool(Math.max(1, shape.burstMaxClients()), daemon("burst-" + mdep));
    for (int i = 0; i < shape.baseWorkers(); i++) {
      base.submit(this::pacedWorker);
    }
    burster = new Thread(this::burstLoop, "burster-" + mdep);
    burster.setDaemon(true);
    burster.start();
  }

  /** From now on, every request to a pod not of {@code healthy} fails inside the model (null: none fail). */
  void breakAllBut(String healthy) {
    onlyHealthyRevision = healthy;
  }

  RevisionCounts counts(String revision) {
    return counts.computeIfAbsent(revision, r -> new RevisionCounts());
  }

  long total() {
    return total.sum();
  }

  int burstsFired() {
    return burstsFired.get();
  }

  private boolean running() {
    return !stopped && System.nanoTime() < deadlineNanos;
  }

  private void pacedWorker() {
    double meanGapMs = 1000.0 * shape.baseWorkers() / shape.rate();
    ThreadLocalRandom random = ThreadLocalRandom.current();
    while (running()) {
      sendOne();
      long gap = (long) (-Math.log(1 - random.nextDouble()) * meanGapMs);
      sleep(Math.min(gap, (long) (10 * meanGapMs)));
    }
  }

  private void burstLoop() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    while (running()) {
      sleep(random.nextInt(shape.burstEveryMinMs(), shape.burstEveryMaxMs() + 1));
      if (!running() || random.nextDouble() >= shape.burstChance()) {
        continue;
      }
      burstsFired.incrementAndGet();
      int clients = random.nextInt(shape.burstMinClients(), shape.burstMaxClients() + 1);
      long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(random.nextInt(shape.burstMinMs(), shape.burstMaxMs() + 1));
      for (int i = 0; i < clients; i++) {
        bursts.submit(() -> {
          while (running() && System.nanoTime() < end) {
            sendOne();
          }
        });
      }
    }
  }

  private void sendOne() {
    List<BenchPod> endpoints = cluster.endpoints(mdep);
    if (endpoints.isEmpty()) {
      sleep(10);
      return;
    }
    BenchPod pod = endpoints.get(ThreadLocalRandom.current().nextInt(endpoints.size()));
    if (!pod.inService) {
      return;
    }
    String healthy = onlyHealthyRevision;
    boolean failing = healthy != null && !healthy.equals(pod.revision);
    RevisionCounts c = counts(pod.revision);
    long now = System.nanoTime();
    c.firstSendNanos.compareAndSet(Long.MAX_VALUE, now);
    c.lastSendNanos.accumulateAndGet(now, Math::max);
    if (failing) {
      c.failingSends.increment();
      c.firstFailingSendNanos.accumulateAndGet(now, Math::min);
      c.lastFailingSendNanos.accumulateAndGet(now, Math::max);
    }
    c.requests.increment();
    total.increment();
    HttpRequest request = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + pod.port + "/v2/models/" + mdep + "/infer"))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(failing ? BenchCluster.FAILING_BODY : BenchCluster.GOOD_BODY))
        .build();
    try {
      int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
      if (status == 200) {
        c.ok.increment();
      } else if (status >= 500) {
        c.serverErrors.increment();
      } else {
        c.otherStatus.increment();
      }
    } catch (java.io.IOException e) {
      c.transportErrors.increment();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopped = true;
    }
  }

  private static void sleep(long ms) {
    if (ms <= 0) {
      return;
    }
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() {
    stopped = true;
    burster.interrupt();
    base.shutdown();
    bursts.shutdown();
    try {
      base.awaitTermination(15, TimeUnit.SECONDS);
      bursts.awaitTermination(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
