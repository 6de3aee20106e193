package io.modelship.e2e;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Clients of a ModelDeployment: inference requests at a steady rate through its client Service (the ClusterIP,
 * as any client in the cluster would), from several clients with their own pools of keep-alive connections,
 * counting every answer by status and by the model version that gave it. Bounded: at most {@code maxInFlight}
 * requests at once, and it stops when closed.
 */
final class Traffic implements AutoCloseable {
  /** One v2 request for the iris-shaped MLPs every end-to-end test serves (4 FP32 features, one row). */
  static final String IRIS_BODY = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\","
      + "\"data\":[5.1,3.5,1.4,0.2]}]}";

  private static final Pattern VERSION = Pattern.compile("\"model_version\":\"([^\"]*)\"");
  /** Several clients, as a Service has: kube-proxy spreads connections, not requests, over the pods. */
  private final HttpClient[] clients = new HttpClient[8];
  private final AtomicLong next = new AtomicLong();
  private final ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "traffic");
    t.setDaemon(true);
    return t;
  });
  private final Semaphore inFlight;
  private final int maxInFlight;
  private final Map<String, AtomicLong> answers = new ConcurrentHashMap<>();
  /** When each kind of answer came first and last: when traffic really reached a version, and really left it. */
  private final Map<String, java.time.Instant> lastAt = new ConcurrentHashMap<>();
  private final AtomicLong sent = new AtomicLong();
  /** The first few failures with their time, to line them up with the cluster's Events. */
  private final java.util.List<String> failureSamples = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final HttpRequest request;
  /** Every answered request's latency as this client saw it, with the version that answered. */
  private final java.util.Queue<Sample> samples = new java.util.concurrent.ConcurrentLinkedQueue<>();

  /** One answered request: when its answer came (epoch ms), the version that gave it, and its latency. */
  record Sample(long atMillis, String version, long micros) {}

  /**
   * Starts sending {@code perSecond} requests a second to {@code model} behind the Service at {@code clusterIp},
   * once the Service answers at all: kube-proxy programs a new Service's rules a moment after its first pod turns
   * ready (until then it refuses connections), and the clients measured here are those of a Service that works.
   */
  Traffic(String clusterIp, String model, String body, int perSecond, int maxInFlight) {
    this.inFlight = new Semaphore(maxInFlight);
    this.maxInFlight = maxInFlight;
    for (int i = 0; i < clients.length; i++) {
      clients[i] = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
          .build();
    }
    this.request = HttpRequest.newBuilder(URI.create("http://" + clusterIp + "/v2/models/" + model + "/infer"))
        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    org.awaitility.Awaitility.await("the Service at " + clusterIp + " answers").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100)).until(() -> {
          try {
            return clients[0].send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
          } catch (java.io.IOException e) {
            return false;
          }
        });
    ticks.scheduleAtFixedRate(this::send, 0, 1_000_000 / perSecond, TimeUnit.MICROSECONDS);
  }

  private void send() {
    if (!inFlight.tryAcquire()) {
      count("skipped (too many in flight)");
      return;
    }
    sent.incrementAndGet();
    HttpClient http = clients[(int) (next.getAndIncrement() % clients.length)];
    long started = System.nanoTime();
    http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).whenComplete((response, error) -> {
      inFlight.release();
      if (error != null) {
        Throwable cause = error.getCause() != null ? error.getCause() : error;
        count("error " + cause.getClass().getSimpleName());
      } else if (response.statusCode() == 200) {
        long micros = (System.nanoTime() - started) / 1000;
        Matcher version = VERSION.matcher(response.body());
        String answeredBy = version.find() ? version.group(1) : "?";
        samples.add(new Sample(System.currentTimeMillis(), answeredBy, micros));
        count("200 " + answeredBy);
      } else {
        count(String.valueOf(response.statusCode()));
      }
    });
  }

  private void count(String key) {
    answers.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
    java.time.Instant now = java.time.Instant.now();
    lastAt.put(key, now);
    if (!key.startsWith("200 ") && !key.startsWith("skipped") && failureSamples.size() < 20) {
      failureSamples.add(java.time.Instant.now() + " " + key);
    }
  }

  /** Up to 20 failures, each with the time it happened. */
  java.util.List<String> failureSamples() {
    return java.util.List.copyOf(failureSamples);
  }

  /** Answers so far: "200 &lt;version&gt;", a status code, or "error &lt;exception&gt;", with counts. */
  Map<String, Long> answers() {
    Map<String, Long> copy = new TreeMap<>();
    answers.forEach((k, v) -> copy.put(k, v.get()));
    return copy;
  }

  /** When the last answer of this kind ("200 &lt;version&gt;", "500", "error X") came, if any did. */
  java.util.Optional<java.time.Instant> lastAt(String key) {
    return java.util.Optional.ofNullable(lastAt.get(key));
  }

  /** The kinds of answer seen so far. */
  java.util.Set<String> kinds() {
    return java.util.Set.copyOf(answers.keySet());
  }

  long answered(String version) {
    return answers().getOrDefault("200 " + version, 0L);
  }

  /** Answers that were not a 200, and requests that got no answer at all. */
  long failures() {
    return answers().entrySet().stream().filter(e -> !e.getKey().startsWith("200 ") && !e.getKey().startsWith("skipped"))
        .mapToLong(Map.Entry::getValue).sum();
  }

  /** The latency of every answered request so far, oldest first. */
  java.util.List<Sample> samples() {
    return java.util.List.copyOf(samples);
  }

  long sent() {
    return sent.get();
  }

  @Override
  public void close() throws InterruptedException {
    ticks.shutdownNow();
    ticks.awaitTermination(10, TimeUnit.SECONDS);
    // Let what is in flight come back (each request times out after 10 s), so the counts are final.
    if (inFlight.tryAcquire(maxInFlight, 15, TimeUnit.SECONDS)) {
      inFlight.release(maxInFlight);
    }
  }
}
