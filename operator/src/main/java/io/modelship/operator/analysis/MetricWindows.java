package io.modelship.operator.analysis;

import io.fabric8.kubernetes.api.model.Pod;
import io.modelship.operator.analysis.PrometheusText.Sample;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The previous scrape of every pod the analysis has looked at, per ModelDeployment and pod uid, and the window
 * arithmetic on top of it: a window is what the counters grew since that scrape, summed over a revision's pods.
 * A pod's first scrape is only its baseline. A window that began less than {@link #WARM_UP} after the pod turned
 * ready (or restarted) is <em>cold</em>: its requests and errors count, its latency does not (a JVM that has just
 * turned ready answers its slowest requests several times slower than a warm one, whatever the model version; see
 * docs/rollout-gates.md). Safe to use from several reconciler threads at once; one
 * ModelDeployment is never evaluated twice concurrently (the reconciler serialises per resource). It never
 * talks to the network: it is handed scrapes.
 */
final class MetricWindows {
  /** A counter series without its value: metric name plus every label. */
  record Series(String name, Map<String, String> labels) {}

  /** What one pod's scrape attempt produced this round. */
  record PodScrape(Pod pod, Optional<String> text) {}

  /** How long after turning ready a pod's latency is not counted yet. */
  static final Duration WARM_UP = Duration.ofSeconds(5);

  /** A pod's counters at its last recorded scrape, and when that was: where its next window begins. */
  private record PodState(Map<Series, Double> counters, Instant at) {}

  private final Map<String, Map<String, PodState>> previous = new ConcurrentHashMap<>();

  /** Drops the pods of {@code deployment} that are no longer live, so a vanished pod never haunts a window. */
  void retain(String deployment, Set<String> liveUids) {
    Map<String, PodState> pods = previous.get(deployment);
    if (pods != null) {
      pods.keySet().retainAll(liveUids);
    }
  }

  /** A pod's uid; a pod without one (never from an informer) is keyed by name so it still gets a window. */
  static String podKey(Pod pod) {
    String uid = pod.getMetadata().getUid();
    return uid != null ? uid : "name:" + pod.getMetadata().getName();
  }

  void forget(String deployment) {
    previous.remove(deployment);
    // The windows of versions served in place, kept apart per version (see advance).
    previous.keySet().removeIf(key -> key.startsWith(deployment + VERSION_SEPARATOR));
  }

  /** Between a ModelDeployment's key and a version's, for windows of versions served in place. */
  static final String VERSION_SEPARATOR = "@";

  /** Records this round's scrapes of one revision's pods as their new baseline and returns the window they end. */
  RevisionWindow advance(String deployment, String model, List<PodScrape> scrapes, Instant at) {
    return advance(deployment, model, scrapes, Baselines.MOVE, at);
  }

  /** What a round does to the pods' baselines. */
  enum Baselines {
    /** Every scrape becomes its pod's new baseline. */
    MOVE,
    /**
     * Pods that have a baseline keep it, so the next window spans this interval too (too little traffic to judge
     * is carried forward instead of thrown away); pods seen for the first time record theirs.
     */
    POOL,
    /** Nothing is recorded: only look at the window. */
    PEEK
  }

  RevisionWindow advance(String deployment, String model, List<PodScrape> scrapes, Baselines baselines, Instant at) {
    return advance(deployment, model, Optional.empty(), scrapes, baselines, at);
  }

  /**
   * As above, reading only the series of {@code version} when given: two versions served in place share their
   * pods, so each keeps its own baselines.
   */
  RevisionWindow advance(String deployment, String model, Optional<String> version, List<PodScrape> scrapes,
      Baselines baselines, Instant at) {
    String key = version.map(v -> deployment + VERSION_SEPARATOR + v).orElse(deployment);
    Map<String, PodState> pods = previous.computeIfAbsent(key, d -> new ConcurrentHashMap<>());
    RevisionWindow.Builder window = new RevisionWindow.Builder();
    for (PodScrape scrape : scrapes) {
      String uid = podKey(scrape.pod());
      if (scrape.text().isEmpty()) {
        // Keep the old baseline: the next window of this pod then spans two intervals, which is still true.
        window.unreachable();
        continue;
      }
      Map<Series, Double> current;
      try {
        current = counters(PrometheusText.parse(scrape.text().get()), model, version);
      } catch (IllegalArgumentException e) {
        window.unreadable(e.getMessage());
        continue;
      }
      PodState before = pods.get(uid);
      switch (baselines) {
        case MOVE -> pods.put(uid, new PodState(current, at));
        case POOL -> {
          if (before == null) {
            pods.put(uid, new PodState(current, at));
          }
        }
        case PEEK -> { }
      }
      if (before == null) {
        window.baseline();
      } else {
        // A restarted process is a new JVM: cold again, even before its pod's Ready condition says so.
        boolean warm = !restarted(before.counters(), current) && warmSince(scrape.pod(), before.at());
        window.measured(delta(before.counters(), current), warm);
      }
    }
    return window.build();
  }

  /**
   * Growth of each series since {@code before}. A restart zeroes every counter of the process at once, so when
   * any series went down the whole previous scrape is taken as zero, not only the series that happened to drop
   * (a series that grew past its old value since the restart would otherwise lose its pre-restart part).
   */
  static Map<Series, Double> delta(Map<Series, Double> before, Map<Series, Double> current) {
    boolean reset = restarted(before, current);
    Map<Series, Double> delta = new HashMap<>();
    current.forEach((series, value) -> delta.put(series, reset ? value : value - before.getOrDefault(series, 0.0)));
    return delta;
  }

  /**
   * True when a window that began at {@code start} began at least {@link #WARM_UP} after the pod last turned
   * ready; a pod that does not say when (no Ready condition) is taken as warm.
   */
  static boolean warmSince(Pod pod, Instant start) {
    if (pod.getStatus() == null || pod.getStatus().getConditions() == null) {
      return true;
    }
    return pod.getStatus().getConditions().stream()
        .filter(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()) && c.getLastTransitionTime() != null)
        .findFirst()
        .map(c -> {
          try {
            return !start.isBefore(Instant.parse(c.getLastTransitionTime()).plus(WARM_UP));
          } catch (java.time.format.DateTimeParseException e) {
            return true;
          }
        })
        .orElse(true);
  }

  /** A counter went down: the process restarted and every counter began again at zero. */
  static boolean restarted(Map<Series, Double> before, Map<Series, Double> current) {
    return current.entrySet().stream().anyMatch(e -> e.getValue() < before.getOrDefault(e.getKey(), 0.0));
  }

  /** The counter series of {@code model} the gates read; other models (e.g. _unknown) and meters are left out. */
  static Map<Series, Double> counters(List<Sample> samples, String model) {
    return counters(samples, model, Optional.empty());
  }

  /** As above, of {@code version} alone when given. */
  static Map<Series, Double> counters(List<Sample> samples, String model, Optional<String> version) {
    Map<Series, Double> counters = new HashMap<>();
    for (Sample sample : samples) {
      boolean wanted = sample.name().equals(ServerMetricNames.REQUESTS)
          || sample.name().equals(ServerMetricNames.LATENCY_BUCKET);
      wanted &= version.isEmpty() || version.get().equals(sample.label(ServerMetricNames.VERSION));
      if (wanted && model.equals(sample.label(ServerMetricNames.MODEL)) && !Double.isNaN(sample.value())) {
        if (sample.name().equals(ServerMetricNames.LATENCY_BUCKET)) {
          // Fails the whole scrape as unreadable now rather than deep inside the window sum.
          PrometheusText.parseValue(String.valueOf(sample.label(ServerMetricNames.LE)));
        }
        counters.merge(new Series(sample.name(), sample.labels()), sample.value(), Double::sum);
      }
    }
    return counters;
  }

  /** One revision's traffic over one window. */
  record RevisionWindow(
      Map<String, Double> requestsByOutcome,
      Map<String, TreeMap<Double, Double>> latencyBucketsByOutcome,
      Map<String, TreeMap<Double, Double>> coldLatencyBucketsByOutcome,
      int measuredPods,
      int coldPods,
      int baselinePods,
      int unreachablePods,
      Optional<String> unreadable) {

    double requests(Set<String> outcomes) {
      return requestsByOutcome.entrySet().stream()
          .filter(e -> outcomes.contains(e.getKey()))
          .mapToDouble(Map.Entry::getValue)
          .sum();
    }

    double requestsExcept(Set<String> outcomes) {
      return requestsByOutcome.entrySet().stream()
          .filter(e -> !outcomes.contains(e.getKey()))
          .mapToDouble(Map.Entry::getValue)
          .sum();
    }

    /**
     * Cumulative latency buckets (upper bound in seconds → count), summed over {@code outcomes}, of the pods past
     * their first window.
     */
    TreeMap<Double, Double> latencyBuckets(Set<String> outcomes) {
      TreeMap<Double, Double> sum = new TreeMap<>();
      add(sum, latencyBucketsByOutcome, outcomes);
      return sum;
    }

    /** As {@link #latencyBuckets}, with the pods in their first window too: only for a verdict no warm-up explains. */
    TreeMap<Double, Double> latencyBucketsWithCold(Set<String> outcomes) {
      TreeMap<Double, Double> sum = latencyBuckets(outcomes);
      add(sum, coldLatencyBucketsByOutcome, outcomes);
      return sum;
    }

    private static void add(TreeMap<Double, Double> sum, Map<String, TreeMap<Double, Double>> byOutcome,
        Set<String> outcomes) {
      byOutcome.forEach((outcome, buckets) -> {
        if (outcomes.contains(outcome)) {
          buckets.forEach((le, count) -> sum.merge(le, count, Double::sum));
        }
      });
    }

    /** Why the numbers may be thin, for a message: "2 pods measured, 1 baseline only, 1 unreachable". */
    String coverage() {
      StringBuilder text = new StringBuilder(measuredPods + (measuredPods == 1 ? " pod" : " pods") + " measured");
      if (coldPods > 0) {
        text.append(", ").append(coldPods).append(coldPods == 1 ? " pod" : " pods")
            .append(" ready for under ").append(WARM_UP.toSeconds()).append(" s at the window's start (latency not counted)");
      }
      if (baselinePods > 0) {
        text.append(", ").append(baselinePods).append(" first seen (baseline only)");
      }
      if (unreachablePods > 0) {
        text.append(", ").append(unreachablePods).append(" unreachable");
      }
      unreadable.ifPresent(problem -> text.append(", unreadable metrics (").append(problem).append(')'));
      return text.toString();
    }

    static final class Builder {
      private final Map<String, Double> requests = new HashMap<>();
      private final Map<String, TreeMap<Double, Double>> latency = new HashMap<>();
      private final Map<String, TreeMap<Double, Double>> coldLatency = new HashMap<>();
      private int measured;
      private int cold;
      private int baseline;
      private int unreachable;
      private String unreadable;

      void baseline() {
        baseline++;
      }

      void unreachable() {
        unreachable++;
      }

      void unreadable(String problem) {
        unreachable++;
        unreadable = problem;
      }

      /** One pod's window; the latency of a {@code warm == false} pod (its first window) is left out. */
      void measured(Map<Series, Double> delta, boolean warm) {
        measured++;
        if (!warm) {
          cold++;
        }
        delta.forEach((series, value) -> {
          String outcome = series.labels().getOrDefault(ServerMetricNames.OUTCOME, "");
          if (series.name().equals(ServerMetricNames.REQUESTS)) {
            requests.merge(outcome, value, Double::sum);
          } else {
            String le = series.labels().get(ServerMetricNames.LE);
            if (le != null) {
              (warm ? latency : coldLatency).computeIfAbsent(outcome, o -> new TreeMap<>())
                  .merge(PrometheusText.parseValue(le), value, Double::sum);
            }
          }
        });
      }

      RevisionWindow build() {
        return new RevisionWindow(Map.copyOf(requests), Map.copyOf(latency), Map.copyOf(coldLatency), measured, cold,
            baseline, unreachable,
            Optional.ofNullable(unreadable));
      }
    }
  }
}
