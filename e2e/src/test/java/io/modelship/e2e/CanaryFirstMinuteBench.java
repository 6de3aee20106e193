package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A canary's latency in its first minute of traffic against warm pods' over the same minute, on the real cluster,
 * as clients calling the Service see it: a pod canary (a new JVM, warmed up by the server's defaults before it turns
 * ready) and an in-place canary (a new version loaded into running, warm JVMs). Two ModelDeployments alike but for
 * spec.rollout.strategy (2 replicas, a 50 % step held 75 s, then 100 %), each with its own steady clients; rounds
 * alternate which one rolls out first. Run by {@code bench/canary-first-minute.sh}; not a test (surefire runs it
 * only when named); writes results.md to {@code bench.out}.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class CanaryFirstMinuteBench {
  private static final String NAMESPACE = "bench-first-minute";
  private static final long WINDOW_MS = 60_000;

  record Row(String strategy, int round, Stats canary, Stats stable, List<Long> canaryP99PerTenSeconds) {}

  record Stats(int n, long p50, long p99) {
    static Stats of(List<Long> micros) {
      List<Long> sorted = micros.stream().sorted().toList();
      return sorted.isEmpty() ? new Stats(0, 0, 0) : new Stats(sorted.size(), at(sorted, 0.50), at(sorted, 0.99));
    }

    private static long at(List<Long> sorted, double q) {
      return sorted.get(Math.max(0, (int) Math.ceil(q * sorted.size()) - 1));
    }
  }

  @Test
  void canaryFirstMinuteAgainstWarmPods() throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 3);
    int rate = Integer.getInteger("bench.rate", 40);
    Path out = Path.of(System.getProperty("bench.out", "target/bench/first-minute"));
    Files.createDirectories(out);
    RealCluster cluster = RealCluster.get();
    try (ModelStore store = ModelStore.inFreshNamespace(cluster, NAMESPACE)) {
      List<String> versions = store.putVersions("bench", rounds + 1, 300);
      Map<String, String> strategies = Map.of("pods", "canary", "inplace", "inPlace");
      for (var entry : strategies.entrySet()) {
        var spec = Specs.errorRateGate(Specs.steps(Specs.s3(NAMESPACE, entry.getKey(), store, versions.get(0), 2),
            50, "75s", 100, null), "2s", 10, 0.05);
        spec.getSpec().setServer(null); // the model server's own warm-up defaults, as a user gets them
        Specs.rollout(spec).setStrategy(entry.getValue());
        cluster.client().resource(spec).create();
      }
      var pods = new Mdeps(cluster, NAMESPACE, "pods");
      var inPlace = new Mdeps(cluster, NAMESPACE, "inplace");
      await().atMost(Duration.ofMinutes(4)).untilAsserted(() -> {
        assertThat(pods.phase()).isEqualTo(Phase.Stable);
        assertThat(inPlace.phase()).isEqualTo(Phase.Stable);
      });
      List<Row> rows = new ArrayList<>();
      try (Traffic podTraffic = new Traffic(pods.clusterIp(), "pods", Traffic.IRIS_BODY, rate, 16);
          Traffic inPlaceTraffic = new Traffic(inPlace.clusterIp(), "inplace", Traffic.IRIS_BODY, rate, 16)) {
        // The stable pods warm under this load for a minute before anything is measured.
        await("a minute of load on the stable pods").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
            .until(() -> podTraffic.sent() >= rate * 60L && inPlaceTraffic.sent() >= rate * 60L);
        for (int round = 1; round <= rounds; round++) {
          List<Mdeps> order = round % 2 == 1 ? List.of(pods, inPlace) : List.of(inPlace, pods);
          for (Mdeps mdep : order) {
            Traffic traffic = mdep == pods ? podTraffic : inPlaceTraffic;
            String stable = mdep.stable().getRevision();
            String canary = rollOut(mdep, versions.get(round));
            Row row = measure(mdep == pods ? "pod canary" : "in place", round, traffic.samples(), canary, stable);
            rows.add(row);
            RealCluster.progress("round %d, %s: canary p99 %.2f ms over its first minute, the warm pods' %.2f ms (%.2fx)"
                .formatted(round, row.strategy(), row.canary().p99() / 1000.0, row.stable().p99() / 1000.0,
                    row.canary().p99() / (double) row.stable().p99()));
          }
        }
        String md = report(rows, rate, podTraffic, inPlaceTraffic);
        Files.writeString(out.resolve("results.md"), md);
        RealCluster.progress(md);
      }
    }
  }

  /** Edits the source, waits for the promotion, and returns the revision that was the canary. */
  private static String rollOut(Mdeps mdep, String uri) {
    String before = mdep.stable().getRevision();
    mdep.newSource(uri);
    await().atMost(Duration.ofMinutes(2)).untilAsserted(() -> assertThat(mdep.canary()).isNotNull());
    String canary = mdep.canary().getRevision();
    await().atMost(Duration.ofMinutes(5)).untilAsserted(() -> {
      assertThat(mdep.phase()).isEqualTo(Phase.Stable);
      assertThat(mdep.stable().getRevision()).isNotEqualTo(before);
      assertThat(mdep.status().getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
    });
    return canary;
  }

  /** The canary's first minute, from its first answer, against the stable revision's answers in the same minute. */
  private static Row measure(String strategy, int round, List<Traffic.Sample> samples, String canary, String stable) {
    long t0 = samples.stream().filter(s -> s.version().equals(canary)).mapToLong(Traffic.Sample::atMillis).min()
        .orElseThrow(() -> new AssertionError("the canary " + canary + " answered nothing"));
    List<Traffic.Sample> window = samples.stream().filter(s -> s.atMillis() >= t0 && s.atMillis() < t0 + WINDOW_MS).toList();
    List<Long> perTen = new ArrayList<>();
    for (long from = t0; from < t0 + WINDOW_MS; from += 10_000) {
      long start = from;
      perTen.add(Stats.of(window.stream().filter(s -> s.version().equals(canary))
          .filter(s -> s.atMillis() >= start && s.atMillis() < start + 10_000).map(Traffic.Sample::micros).toList()).p99());
    }
    return new Row(strategy, round,
        Stats.of(window.stream().filter(s -> s.version().equals(canary)).map(Traffic.Sample::micros).toList()),
        Stats.of(window.stream().filter(s -> s.version().equals(stable)).map(Traffic.Sample::micros).toList()),
        perTen);
  }

  private static String report(List<Row> rows, int rate, Traffic podTraffic, Traffic inPlaceTraffic) {
    StringBuilder md = new StringBuilder("## A canary's first minute against warm pods (same minute, same clients)\n\n"
        + ("2 replicas per ModelDeployment, a 50 %% step held 75 s, %d requests/s through each client Service from"
        + " the bench's clients (client-side latency: kube-proxy, the pod and the JVM's HTTP client included);"
        + " the model server's warm-up defaults. First minute: from the canary's first answer.\n\n").formatted(rate)
        + "| strategy | round | canary answers | canary p50 / p99 (ms) | warm pods' answers | warm p50 / p99 (ms) |"
        + " canary p99 / warm p99 | canary p99 per 10 s (ms) |\n|---|---|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      md.append("| %s | %d | %d | %.2f / %.2f | %d | %.2f / %.2f | %.2f | %s |\n".formatted(r.strategy(), r.round(),
          r.canary().n(), r.canary().p50() / 1000.0, r.canary().p99() / 1000.0, r.stable().n(),
          r.stable().p50() / 1000.0, r.stable().p99() / 1000.0, r.canary().p99() / (double) r.stable().p99(),
          r.canaryP99PerTenSeconds().stream().map(us -> "%.1f".formatted(us / 1000.0)).collect(Collectors.joining(", "))));
    }
    for (String strategy : List.of("pod canary", "in place")) {
      List<Double> ratios = rows.stream().filter(r -> r.strategy().equals(strategy))
          .map(r -> r.canary().p99() / (double) r.stable().p99()).sorted().toList();
      if (!ratios.isEmpty()) {
        md.append("\n%s: canary p99 / warm p99, median %.2f (min %.2f, max %.2f) over %d rounds.".formatted(strategy,
            ratios.get(ratios.size() / 2), ratios.get(0), ratios.get(ratios.size() - 1), ratios.size()));
      }
    }
    md.append("\nClient-visible failures: pod canary %d, in place %d.\n".formatted(podTraffic.failures(),
        inPlaceTraffic.failures()));
    return md.toString();
  }
}
