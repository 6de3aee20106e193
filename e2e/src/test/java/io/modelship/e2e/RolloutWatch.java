package io.modelship.e2e;

import io.fabric8.kubernetes.api.model.Pod;
import io.modelship.operator.analysis.DirectPodMetrics;
import io.modelship.operator.analysis.Histograms;
import io.modelship.operator.analysis.PrometheusText;
import io.modelship.operator.analysis.ServerMetricNames;
import io.modelship.operator.api.CrdConstants;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.HistoryEntry;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What a person watching a rollout sees, once a second: the ModelDeployment's status (phase, step, weight, each
 * gate's value and verdict, how the rollout ended) printed as a timeline when it changes, and every model-server
 * pod's own {@code /metrics}, the page the gates judge, turned into request rate, error rate and p99 per model
 * version. The samples and marks are what {@link RolloutPicture} draws.
 *
 * <p>Revisions are shown by the names the story gives them ({@link #nextIs}): the first revision seen after a call
 * gets that name.
 */
final class RolloutWatch implements AutoCloseable {
  /** One second of a version's traffic, as its pods counted it. */
  record Rates(double perSecond, double errorRate, double p99Millis) {}

  /** One sample: seconds since the watch began, the canary's step weight and observed weight, rates per version. */
  record Sample(double t, String canary, Integer stepWeight, Integer weight, Map<String, Rates> byVersion) {}

  /** A moment worth marking on the picture: a step reached, a promotion, a rollback. */
  record Mark(double t, String kind, String label) {}

  /** How a version's rollout went: when each step was reached, and how it ended. */
  static final class Story {
    final String version;
    String revision;
    final Map<Integer, Double> stepReachedAt = new TreeMap<>();
    final Map<Integer, Integer> stepWeight = new TreeMap<>();
    Double startedAt;
    Double endedAt;
    String outcome;
    String reason;
    double serverErrors;

    Story(String version) {
      this.version = version;
    }
  }

  private final RealCluster cluster;
  private final Mdeps mdep;
  private final PrintStream out;
  private final long startNanos = System.nanoTime();
  private final DirectPodMetrics metrics = new DirectPodMetrics(Duration.ofSeconds(1));
  /** Status is read five times a second (a 100 % step without a pause passes quickly), pods scraped once. */
  private final ScheduledExecutorService poll = Executors.newScheduledThreadPool(2, r -> {
    Thread t = new Thread(r, "rollout-watch");
    t.setDaemon(true);
    return t;
  });
  /** The canary as status last showed it: its name, the weight its step asks, the weight observed. */
  private record Canary(String name, Integer stepWeight, Integer weight) {}
  private volatile Canary canaryNow = new Canary(null, null, null);
  private volatile String stableNow;
  /** Requests and 5xx, and latency buckets, per version since the last traffic line: what that line sums up. */
  private final Map<String, double[]> windowRequests = new TreeMap<>();
  private final Map<String, TreeMap<Double, Double>> windowBuckets = new HashMap<>();

  final List<Sample> samples = new CopyOnWriteArrayList<>();
  final List<Mark> marks = new CopyOnWriteArrayList<>();
  final List<String> timeline = new CopyOnWriteArrayList<>();
  /** Revision name → the story's name for it (v1, v2, ...), in the order they appeared. */
  private final Map<String, String> names = new LinkedHashMap<>();
  final Map<String, Story> stories = new LinkedHashMap<>();
  private volatile String nextName;

  // What was last seen, to print changes only.
  private String lastPhase;
  private String lastCanary;
  private Integer lastStep;
  private Integer lastWeight;
  private final Map<String, String> lastVerdicts = new HashMap<>();
  private final Set<String> historySeen = new HashSet<>();
  private double lastTrafficLine = -10;
  private final Map<String, Map<String, Double>> podCounters = new HashMap<>();
  private long lastScrapeNanos;

  RolloutWatch(RealCluster cluster, Mdeps mdep, PrintStream out) {
    this.cluster = cluster;
    this.mdep = mdep;
    this.out = out;
    poll.scheduleWithFixedDelay(this::watchStatus, 0, 200, TimeUnit.MILLISECONDS);
    poll.scheduleWithFixedDelay(this::sample, 0, 1, TimeUnit.SECONDS);
  }

  /** The next revision that appears is called {@code name} in the timeline, the table and the picture. */
  void nextIs(String name) {
    nextName = name;
  }

  double now() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** The story's name for a revision, or the revision itself when the story named none. */
  synchronized String nameOf(String revision) {
    return names.getOrDefault(revision, revision);
  }

  synchronized Optional<Story> story(String version) {
    return Optional.ofNullable(stories.get(version));
  }

  private synchronized String name(String revision) {
    if (revision == null) {
      return null;
    }
    return names.computeIfAbsent(revision, r -> {
      String name = nextName != null ? nextName : r;
      nextName = null;
      Story story = new Story(name);
      story.revision = r;
      stories.put(name, story);
      return name;
    });
  }

  private void watchStatus() {
    try {
      ModelDeployment current = cluster.client().resources(ModelDeployment.class).inNamespace(mdep.namespace)
          .withName(mdep.name).get();
      if (current == null || current.getStatus() == null) {
        return;
      }
      ModelDeploymentStatus status = current.getStatus();
      observe(current, status, now());
      stableNow = status.getStable() == null ? null : nameOf(status.getStable().getRevision());
      CanaryStatus canary = status.getCanary();
      if (canary == null || canary.getRevision() == null) {
        canaryNow = new Canary(null, null, null);
      } else {
        var steps = current.getSpec().getRollout() == null ? null : current.getSpec().getRollout().getSteps();
        Integer stepWeight = steps != null && canary.getStep() != null && canary.getStep() < steps.size()
            ? steps.get(canary.getStep()).getWeight() : null;
        canaryNow = new Canary(nameOf(canary.getRevision()), stepWeight, canary.getWeight());
      }
    } catch (RuntimeException e) {
      // The apiserver did not answer this time: the next poll tries again.
    }
  }

  private void sample() {
    try {
      Map<String, Rates> rates = scrape();
      double t = now();
      Canary canary = canaryNow;
      samples.add(new Sample(t, canary.name(), canary.stepWeight(), canary.weight(), rates));
      if (t - lastTrafficLine >= 10) {
        List<String> parts = new ArrayList<>();
        double seconds = t - Math.max(lastTrafficLine, 0);
        windowRequests.forEach((version, sums) -> {
          double p99 = Histograms.quantile(0.99, windowBuckets.getOrDefault(version, new TreeMap<>())) * 1000;
          parts.add(String.format(Locale.ROOT, "%s %.1f/s, %.0f %% 5xx, p99 %s", version, sums[0] / seconds,
              sums[0] == 0 ? 0 : 100 * sums[1] / sums[0],
              Double.isNaN(p99) ? "-" : String.format(Locale.ROOT, "%.1f ms", p99)));
        });
        if (!parts.isEmpty()) {
          say("traffic over %.0f s (pods' metrics): %s".formatted(seconds, String.join(" · ", parts)));
        }
        windowRequests.clear();
        windowBuckets.clear();
        lastTrafficLine = t;
      }
    } catch (RuntimeException e) {
      // The apiserver or a pod did not answer this second: the next sample tries again.
    }
  }

  private synchronized void observe(ModelDeployment current, ModelDeploymentStatus status, double t) {
    if (status.getStable() != null) {
      name(status.getStable().getRevision());
    }
    String phase = status.getPhase() == null ? null : status.getPhase().name();
    for (HistoryEntry entry : status.getHistory() == null ? List.<HistoryEntry>of() : status.getHistory()) {
      String key = entry.getRevision() + "@" + entry.getAt();
      if (historySeen.add(key)) {
        String version = name(entry.getRevision());
        Story story = stories.get(version);
        if (story.outcome == null && story.startedAt != null) {
          story.outcome = String.valueOf(entry.getOutcome());
          story.reason = entry.getReason();
          story.endedAt = t;
          say("%s: %s (%s)".formatted(version, entry.getOutcome(), entry.getReason()));
          marks.add(new Mark(t, String.valueOf(entry.getOutcome()), version + " " + entry.getOutcome()));
        }
      }
    }
    CanaryStatus canary = status.getCanary();
    String canaryName = canary == null ? null : name(canary.getRevision());
    if (canaryName != null && !canaryName.equals(lastCanary)) {
      Story story = stories.get(canaryName);
      story.startedAt = t;
      say("%s: canary %s started beside %s".formatted(canaryName, canary.getRevision(),
          status.getStable() == null ? "nothing" : nameOf(status.getStable().getRevision())));
      marks.add(new Mark(t, "start", canaryName + " starts"));
      lastStep = null;
      lastWeight = null;
      lastVerdicts.clear();
    }
    lastCanary = canaryName;
    if (canary != null && canary.getStepReachedAt() != null && canary.getStep() != null
        && !canary.getStep().equals(lastStep)) {
      lastStep = canary.getStep();
      var steps = current.getSpec().getRollout() == null ? null : current.getSpec().getRollout().getSteps();
      int count = steps == null ? 0 : steps.size();
      Integer asked = steps != null && lastStep < count ? steps.get(lastStep).getWeight() : null;
      Story story = stories.get(canaryName);
      story.stepReachedAt.put(lastStep, t);
      story.stepWeight.put(lastStep, asked);
      say("%s: step %d/%d reached: %s %% asked".formatted(canaryName, lastStep + 1, count, asked));
      marks.add(new Mark(t, "step", asked + " %"));
    }
    // The weight status observes is written in its own pass, so it may follow the step by a moment: its own line.
    if (canary != null && canary.getWeight() != null && !canary.getWeight().equals(lastWeight)) {
      lastWeight = canary.getWeight();
      say("%s: %d %% of requests observed".formatted(canaryName, lastWeight));
    }
    if (canary != null) {
      for (GateResultStatus gate : canary.getAnalysis() == null ? List.<GateResultStatus>of() : canary.getAnalysis()) {
        String verdict = String.valueOf(gate.getVerdict());
        if (!verdict.equals(lastVerdicts.put(gate.getGate(), verdict))) {
          say("%s: gate %s = %s (threshold %s): %s%s".formatted(canaryName, gate.getGate(), number(gate.getValue()),
              number(gate.getThreshold()), verdict, gate.getMessage() == null ? "" : " (" + gate.getMessage() + ")"));
        }
      }
    }
    if (phase != null && !phase.equals(lastPhase)) {
      String stable = status.getStable() == null ? "none" : nameOf(status.getStable().getRevision());
      say("phase %s (stable: %s, %s/%s ready)".formatted(phase, stable,
          status.getStable() == null ? 0 : status.getStable().getReadyReplicas(),
          status.getStable() == null ? 0 : status.getStable().getReplicas()));
      lastPhase = phase;
    }
  }

  /**
   * Every pod's counters now, minus what the same pod showed at the last scrape, summed per model version. A pod
   * seen for the first time only records its counters: what it did before is not in this second.
   */
  private Map<String, Rates> scrape() {
    List<Pod> pods = cluster.client().pods().inNamespace(mdep.namespace)
        .withLabel(CrdConstants.LABEL_DEPLOYMENT, mdep.name).list().getItems();
    long nanos = System.nanoTime();
    double seconds = lastScrapeNanos == 0 ? 1 : (nanos - lastScrapeNanos) / 1e9;
    lastScrapeNanos = nanos;
    Map<String, double[]> requests = new TreeMap<>();
    Map<String, TreeMap<Double, Double>> buckets = new HashMap<>();
    Set<String> alive = new HashSet<>();
    for (Pod pod : pods) {
      String key = pod.getMetadata().getName() + "/" + pod.getMetadata().getUid();
      Optional<String> page = metrics.scrape(pod);
      if (page.isEmpty()) {
        continue;
      }
      alive.add(key);
      Map<String, Double> counters = counters(page.get());
      Map<String, Double> before = podCounters.put(key, counters);
      if (before == null) {
        continue;
      }
      counters.forEach((series, value) -> {
        double delta = value - before.getOrDefault(series, 0.0);
        if (delta < 0) {
          delta = value;
        }
        String[] parts = series.split("\u0000", -1);
        String version = nameOf(parts[1]);
        if (parts[0].equals("requests")) {
          double[] sums = requests.computeIfAbsent(version, v -> new double[2]);
          if (!ServerMetricNames.NOT_JUDGED_OUTCOMES.contains(parts[2])) {
            sums[0] += delta;
          }
          if (ServerMetricNames.ERROR_OUTCOMES.contains(parts[2])) {
            sums[1] += delta;
          }
        } else {
          buckets.computeIfAbsent(version, v -> new TreeMap<>()).merge(Double.parseDouble(parts[3]), delta, Double::sum);
        }
      });
    }
    podCounters.keySet().retainAll(alive);
    Map<String, Rates> rates = new TreeMap<>();
    requests.forEach((version, sums) -> {
      // A second without requests is a 0 for the versions serving (at 10 % of 20/s that happens), not a gap.
      if (sums[0] <= 0 && !version.equals(canaryNow.name()) && !version.equals(stableNow)) {
        return;
      }
      double[] window = windowRequests.computeIfAbsent(version, v -> new double[2]);
      window[0] += sums[0];
      window[1] += sums[1];
      buckets.getOrDefault(version, new TreeMap<>()).forEach((bound, count) ->
          windowBuckets.computeIfAbsent(version, v -> new TreeMap<>()).merge(bound, count, Double::sum));
      if (sums[0] <= 0) {
        rates.put(version, new Rates(0, Double.NaN, Double.NaN));
        return;
      }
      synchronized (this) {
        Story story = stories.get(version);
        if (story != null) {
          story.serverErrors += sums[1];
        }
      }
      double p99 = Histograms.quantile(0.99, buckets.getOrDefault(version, new TreeMap<>())) * 1000;
      rates.put(version, new Rates(sums[0] / seconds, sums[1] / sums[0], p99));
    });
    return rates;
  }

  /** The page's counters the gates read, keyed "requests|latency \0 version \0 outcome \0 le" (for this model). */
  private Map<String, Double> counters(String page) {
    Map<String, Double> counters = new HashMap<>();
    for (PrometheusText.Sample sample : PrometheusText.parse(page)) {
      if (!mdep.name.equals(sample.label(ServerMetricNames.MODEL))) {
        continue;
      }
      String version = sample.label(ServerMetricNames.VERSION);
      String outcome = sample.label(ServerMetricNames.OUTCOME);
      if (sample.name().equals(ServerMetricNames.REQUESTS)) {
        counters.merge("requests\u0000" + version + "\u0000" + outcome + "\u0000", sample.value(), Double::sum);
      } else if (sample.name().equals(ServerMetricNames.LATENCY_BUCKET)
          && ServerMetricNames.LATENCY_OUTCOMES.contains(outcome)) {
        String le = sample.label(ServerMetricNames.LE);
        double bound = "+Inf".equals(le) ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
        counters.merge("latency\u0000" + version + "\u0000" + outcome + "\u0000" + bound, sample.value(), Double::sum);
      }
    }
    return counters;
  }

  private static String number(Double value) {
    if (value == null || value.isNaN()) {
      return "-";
    }
    return String.format(Locale.ROOT, Math.abs(value) >= 100 ? "%.0f" : "%.3f", value);
  }

  /** A timeline line, printed at once and kept for the page. */
  void say(String line) {
    double t = now();
    String stamped = String.format(Locale.ROOT, "[%d:%02d] %s", (int) t / 60, (int) t % 60, line);
    timeline.add(stamped);
    out.println(stamped);
    out.flush();
  }

  @Override
  public void close() throws InterruptedException {
    poll.shutdownNow();
    poll.awaitTermination(5, TimeUnit.SECONDS);
  }
}
