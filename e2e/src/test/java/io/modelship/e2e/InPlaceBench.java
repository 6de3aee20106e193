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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Time from a new model version to 100 %, in place versus with a pod canary, in the same run on the real cluster:
 * two ModelDeployments alike in all but spec.rollout.strategy (2 replicas, steps 10 % -> 50 % -> 100 % with 5 s
 * pauses, an error-rate gate every 2 s, real traffic through each client Service), rolled out in alternating
 * rounds, each round to a new version, so drift hits both alike. Run by {@code bench/inplace-rollout.sh}; not a test
 * (surefire runs it only when named); writes results.md to {@code bench.out}.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class InPlaceBench {
  private static final String NAMESPACE = "bench-inplace";

  @Test
  void inPlaceVersusPods() throws Exception {
    int rounds = Integer.getInteger("bench.rounds", 3);
    Path out = Path.of(System.getProperty("bench.out", "target/bench/inplace"));
    Files.createDirectories(out);
    RealCluster cluster = RealCluster.get();
    try (ModelStore store = ModelStore.inFreshNamespace(cluster, NAMESPACE)) {
      List<String> versions = store.putVersions("bench", rounds + 1, 200);
      Map<String, String> strategies = Map.of("pods", "canary", "inplace", "inPlace");
      for (var entry : strategies.entrySet()) {
        var spec = Specs.errorRateGate(Specs.steps(Specs.s3(NAMESPACE, entry.getKey(), store, versions.get(0), 2),
            10, "5s", 50, "5s", 100, null), "2s", 10, 0.05);
        Specs.rollout(spec).setStrategy(entry.getValue());
        cluster.client().resource(spec).create();
      }
      var pods = new Mdeps(cluster, NAMESPACE, "pods");
      var inPlace = new Mdeps(cluster, NAMESPACE, "inplace");
      await().atMost(Duration.ofMinutes(4)).untilAsserted(() -> {
        assertThat(pods.phase()).isEqualTo(Phase.Stable);
        assertThat(inPlace.phase()).isEqualTo(Phase.Stable);
      });
      List<long[]> results = new ArrayList<>();
      try (Traffic podTraffic = new Traffic(pods.clusterIp(), "pods", Traffic.IRIS_BODY, 20, 8);
          Traffic inPlaceTraffic = new Traffic(inPlace.clusterIp(), "inplace", Traffic.IRIS_BODY, 20, 8)) {
        for (int round = 1; round <= rounds; round++) {
          long[] row = new long[3];
          row[0] = round;
          // Alternate who goes first, so neither always rolls out on a machine still busy with the other.
          List<Mdeps> order = round % 2 == 1 ? List.of(pods, inPlace) : List.of(inPlace, pods);
          for (Mdeps mdep : order) {
            long ms = rollOut(mdep, versions.get(round));
            row[mdep == pods ? 1 : 2] = ms;
            RealCluster.progress("round %d: %s to 100 %% in %d ms".formatted(round, mdep == pods ? "pod canary"
                : "in place", ms));
          }
          results.add(row);
        }
        RealCluster.progress("answers, pod canary: %s; in place: %s".formatted(podTraffic.answers(),
            inPlaceTraffic.answers()));
        List<Long> podTimes = results.stream().map(r -> r[1]).sorted().toList();
        List<Long> inPlaceTimes = results.stream().map(r -> r[2]).sorted().toList();
        long podMedian = median(podTimes);
        long inPlaceMedian = median(inPlaceTimes);
        StringBuilder md = new StringBuilder("## New version to 100 %: in place versus a pod canary (same run)\n\n"
            + "2 replicas, steps 10 % (5 s) -> 50 % (5 s) -> 100 %, error-rate gate every 2 s (at least 10 requests),"
            + " 8 clients per ModelDeployment.\n\n| round | pod canary (ms) | in place (ms) |\n|---|---|---|\n");
        results.forEach(r -> md.append("| %d | %d | %d |\n".formatted(r[0], r[1], r[2])));
        md.append(("\nMedian: pod canary %d ms, in place %d ms (in place / pods = %.2f). Client-visible failures:"
            + " pod canary %d, in place %d.\n").formatted(podMedian, inPlaceMedian, inPlaceMedian / (double) podMedian,
                podTraffic.failures(), inPlaceTraffic.failures()));
        Files.writeString(out.resolve("results.md"), md);
        RealCluster.progress(md.toString());
      }
    }
  }

  /** Edits the source and waits for the promotion; returns milliseconds from the edit to Stable on the new revision. */
  private static long rollOut(Mdeps mdep, String uri) {
    String before = mdep.stable().getRevision();
    long start = System.nanoTime();
    mdep.newSource(uri);
    await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      assertThat(mdep.phase()).isEqualTo(Phase.Stable);
      assertThat(mdep.stable().getRevision()).isNotEqualTo(before);
      assertThat(mdep.status().getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
    });
    return (System.nanoTime() - start) / 1_000_000;
  }

  private static long median(List<Long> sorted) {
    return sorted.size() % 2 == 1 ? sorted.get(sorted.size() / 2)
        : (sorted.get(sorted.size() / 2 - 1) + sorted.get(sorted.size() / 2)) / 2;
  }
}
