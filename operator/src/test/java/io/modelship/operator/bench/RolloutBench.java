package io.modelship.operator.bench;

import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import io.modelship.operator.api.status.HistoryEntry;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.bench.BenchCluster.MdepWatch;
import io.modelship.operator.bench.BenchCluster.Seen;
import io.modelship.operator.testing.ModelDeployments;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The rollout benchmark (never part of the test run: no Test/IT suffix, started by bench/rollout.sh).
 *
 * <p>Measures, against the real operator with default settings, the real clock and the production analysis:
 * <ol>
 *   <li>time to roll back: from the first request a failing canary gets (scenario {@code broken}: the canary
 *       fails from its first request) or from the moment a canary that had passed its gates starts failing
 *       (scenario {@code turns-bad}) until the canary's Deployment is deleted, i.e. its pods leave the Service and
 *       100% of traffic is on stable; also the decision (status RollingBack) and Degraded;</li>
 *   <li>false rollbacks: healthy canaries (same model as stable) under noisy load, run through shortened steps.</li>
 * </ol>
 * Usage: {@code RolloutBench [--rollback-runs N] [--healthy-runs N] [--parallel P] [--rate R] [--out DIR]
 * [--max-minutes M] [--scenarios broken,turns-bad,healthy]}.
 */
public final class RolloutBench {
  static final int REPLICAS = 4;
  private static final Duration STEP_TIMEOUT = Duration.ofSeconds(90);

  private final BenchCluster cluster;
  private final Options options;
  private final long deadlineNanos;
  private final StringBuilder report = new StringBuilder();
  private final List<String> csv = Collections.synchronizedList(new ArrayList<>());

  record Options(int rollbackRuns, int healthyRuns, int parallel, double rate, Path out, double maxMinutes,
      List<String> scenarios, BenchCluster.Jitter jitter, int lowTrafficSeconds, double lowTrafficRate,
      int slowPodSeconds) {

    static Options parse(String[] args) {
      Map<String, String> a = new LinkedHashMap<>();
      for (int i = 0; i + 1 < args.length; i += 2) {
        a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
      }
      return new Options(
          Integer.parseInt(a.getOrDefault("rollback-runs", "10")),
          Integer.parseInt(a.getOrDefault("healthy-runs", "20")),
          Integer.parseInt(a.getOrDefault("parallel", "2")),
          Double.parseDouble(a.getOrDefault("rate", "120")),
          Path.of(a.getOrDefault("out", "bench/rollout/out")),
          Double.parseDouble(a.getOrDefault("max-minutes", "13")),
          List.of(a.getOrDefault("scenarios", "broken,turns-bad,low-traffic,healthy,slow-pods").split(",")),
          new BenchCluster.Jitter(Double.parseDouble(a.getOrDefault("jitter-p", "0.005")),
              Integer.parseInt(a.getOrDefault("jitter-min-ms", "2")),
              Integer.parseInt(a.getOrDefault("jitter-max-ms", "20"))),
          Integer.parseInt(a.getOrDefault("low-traffic-seconds", "75")),
          Double.parseDouble(a.getOrDefault("low-traffic-rate", "8")),
          Integer.parseInt(a.getOrDefault("slow-pod-seconds", "15")));
    }
  }

  private RolloutBench(BenchCluster cluster, Options options) {
    this.cluster = cluster;
    this.options = options;
    this.deadlineNanos = System.nanoTime() + (long) (options.maxMinutes() * 60e9);
  }

  public static void main(String[] args) throws Exception {
    Options options = Options.parse(args);
    Files.createDirectories(options.out());
    Path work = Files.createTempDirectory("rollout-bench");
    long started = System.nanoTime();
    int exit = 0;
    try (BenchCluster cluster = new BenchCluster(work, options.jitter())) {
      RolloutBench bench = new RolloutBench(cluster, options);
      bench.run();
      bench.header(started);
    } catch (Exception e) {
      e.printStackTrace();
      exit = 1;
    }
    System.out.printf(Locale.ROOT, "%n[rollout-bench] total %.0f s%n", (System.nanoTime() - started) / 1e9);
    System.exit(exit);
  }

  private LoadGenerator.Shape shape() {
    return new LoadGenerator.Shape(3, options.rate(), 0.7, 1000, 3000, 4, 16, 200, 1000);
  }

  private void run() throws Exception {
    csv.add("scenario,run,mdep,canary,t_fail_to_decision_s,t_fail_to_removed_s,t_fail_to_last_canary_request_s,"
        + "t_fail_to_degraded_s,failed_requests_served,evaluations_after_fail,verdicts,outcome,promote_s,max_p99_ratio,reason");
    if (options.scenarios().contains("broken") || options.scenarios().contains("turns-bad")) {
      rollbacks();
    }
    if (options.scenarios().contains("low-traffic")) {
      lowTraffic();
    }
    if (options.scenarios().contains("healthy")) {
      healthy();
    }
    if (options.scenarios().contains("slow-pods")) {
      slowPods();
    }
    Files.write(options.out().resolve("runs.csv"), csv);
    Files.writeString(options.out().resolve("results.md"), report.toString());
  }

  private void header(long started) throws IOException {
    List<Long> starts = new ArrayList<>(cluster.serverStartMillis);
    Collections.sort(starts);
    String text = String.format(Locale.ROOT,
        "%n_Bench settings: replicas %d, load %s; server jitter: p=%.3f per batch, %d-%d ms; %d pods started "
            + "(server start + 200-request warm-up: median %d ms); wall time %.0f s._%n",
        REPLICAS, shape().describe(), options.jitter().probability(), options.jitter().minMs(),
        options.jitter().maxMs(), starts.size(), starts.isEmpty() ? 0 : starts.get(starts.size() / 2),
        (System.nanoTime() - started) / 1e9);
    report.append(text);
    System.out.println(report);
    Files.writeString(options.out().resolve("results.md"), report.toString());
  }

  private boolean timeLeft(Duration needed) {
    return System.nanoTime() + needed.toNanos() < deadlineNanos;
  }

  // ------------------------------------------------------------------------------------------ rollbacks

  record RollbackRun(String scenario, int run, String canary, double decision, double removed, double lastCanary,
      double degraded, long failedServed, List<String> evaluations, String reason) {}

  private void rollbacks() throws Exception {
    String name = "rb";
    bringUp(name, false);
    try (LoadGenerator load = new LoadGenerator(cluster, name, shape(), Duration.ofMinutes(20))) {
      Thread.sleep(3000);
      long loadStarted = System.nanoTime();
      long sentBefore = load.total();
      int version = 2;
      for (String scenario : List.of("broken", "turns-bad")) {
        if (!options.scenarios().contains(scenario)) {
          continue;
        }
        List<RollbackRun> runs = new ArrayList<>();
        for (int i = 1; i <= options.rollbackRuns() && timeLeft(Duration.ofSeconds(40)); i++) {
          Optional<RollbackRun> run = rollbackOnce(name, load, scenario, i, version++);
          run.ifPresent(runs::add);
          run.ifPresent(r -> System.out.printf(Locale.ROOT,
              "[rollout-bench] %s #%d: decision %.2f s, removed %.2f s, degraded %.2f s, %d failed requests served, evaluations %s%n",
              scenario, r.run(), r.decision(), r.removed(), r.degraded(), r.failedServed(), r.evaluations()));
          Thread.sleep(1000);
        }
        reportRollbacks(scenario, runs);
        report.append(String.format(Locale.ROOT, "%nLoad so far on this ModelDeployment: %.0f requests/s on average "
                + "(base pacing plus bursts), %d bursts.%n",
            (load.total() - sentBefore) / seconds(System.nanoTime() - loadStarted), load.burstsFired()));
      }
    } finally {
      cluster.delete(name);
    }
  }

  private Optional<RollbackRun> rollbackOnce(String name, LoadGenerator load, String scenario, int run, int version)
      throws Exception {
    MdepWatch watch = cluster.watch(name);
    String stable = watch.latest().orElseThrow().status().getStable().getRevision();
    load.breakAllBut("broken".equals(scenario) ? stable : null);
    long edited = System.nanoTime();
    cluster.edit(name, m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/" + name + "/" + version + "/"));
    Optional<Seen> progressing = watch.await(edited,
        s -> s.getCanary() != null && !stable.equals(s.getCanary().getRevision()), STEP_TIMEOUT);
    if (progressing.isEmpty()) {
      System.out.printf("[rollout-bench] %s #%d: no canary appeared%n", scenario, run);
      return Optional.empty();
    }
    String canary = progressing.get().status().getCanary().getRevision();
    if ("turns-bad".equals(scenario)) {
      Optional<Seen> passed = watch.await(edited, s -> s.getCanary() != null && canary.equals(s.getCanary().getRevision())
          && !s.getCanary().getAnalysis().isEmpty()
          && s.getCanary().getAnalysis().stream().allMatch(r -> r.getVerdict() == Verdict.Pass), STEP_TIMEOUT);
      if (passed.isEmpty()) {
        System.out.printf("[rollout-bench] %s #%d: the healthy canary never passed its gates%n", scenario, run);
        load.breakAllBut(stable);
      } else {
        // A random moment inside an analysis interval: where the fault lands in the window matters.
        Thread.sleep(ThreadLocalRandom.current().nextLong(0, 5000));
        load.breakAllBut(stable);
      }
    }
    Optional<Seen> decided = watch.await(edited, s -> canary.equals(s.getFailedRevision())
        || (s.getStable() != null && canary.equals(s.getStable().getRevision())), STEP_TIMEOUT);
    Optional<Seen> degraded = watch.await(edited, s -> s.getPhase() == Phase.Degraded && canary.equals(s.getFailedRevision())
        || (s.getStable() != null && canary.equals(s.getStable().getRevision())), STEP_TIMEOUT);
    load.breakAllBut(null);
    long removedWait = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!cluster.revisionRemovedAtNanos.containsKey(canary) && System.nanoTime() < removedWait) {
      Thread.sleep(20);
    }
    LoadGenerator.RevisionCounts counts = load.counts(canary);
    long t0 = counts.firstFailingSendNanos.get();
    if (decided.isEmpty() || degraded.isEmpty() || t0 == Long.MAX_VALUE) {
      System.out.printf("[rollout-bench] %s #%d: no rollback (decided %s, degraded %s, failing requests %d)%n",
          scenario, run, decided.isPresent(), degraded.isPresent(), counts.failingSends.sum());
      return Optional.empty();
    }
    ModelDeploymentStatus end = degraded.get().status();
    HistoryEntry last = end.getHistory().isEmpty() ? null : end.getHistory().get(0);
    boolean rolledBack = canary.equals(end.getFailedRevision());
    String reason = last == null ? "-" : last.getOutcome() + " " + last.getReason();
    List<String> evaluations = evaluations(watch.since(edited), canary, t0);
    if (rolledBack) {
      evaluations.add(String.format(Locale.ROOT, "%+.1f F→rollback", seconds(decided.get().nanos() - t0)));
    }
    Long removed = cluster.revisionRemovedAtNanos.get(canary);
    RollbackRun r = new RollbackRun(scenario, run, canary,
        seconds(decided.get().nanos() - t0),
        removed == null ? Double.NaN : seconds(removed - t0),
        seconds(counts.lastSendNanos.get() - t0),
        seconds(degraded.get().nanos() - t0),
        counts.serverErrors.sum(), evaluations, rolledBack ? reason : "NOT ROLLED BACK: " + reason);
    csv.add(String.join(",", scenario, String.valueOf(run), name, canary, f(r.decision()), f(r.removed()),
        f(r.lastCanary()), f(r.degraded()), String.valueOf(r.failedServed()),
        String.valueOf(evaluations.size()), quote(String.join(" ", evaluations)), rolledBack ? "RolledBack" : "Promoted",
        "", "", quote(reason)));
    return Optional.of(r);
  }

  /** Each distinct evaluation of {@code canary} (keyed by its timestamp), as "+4.1s I/F/P" relative to t0. */
  private static List<String> evaluations(List<Seen> seen, String canary, long t0) {
    List<String> out = new ArrayList<>();
    String lastAt = null;
    for (Seen s : seen) {
      var c = s.status().getCanary();
      if (c == null || !canary.equals(c.getRevision()) || c.getAnalysis().isEmpty()) {
        continue;
      }
      String at = c.getAnalysis().get(0).getAt();
      if (at == null || at.equals(lastAt)) {
        continue;
      }
      lastAt = at;
      out.add(String.format(Locale.ROOT, "%+.1f %s", seconds(s.nanos() - t0), verdicts(c.getAnalysis())));
    }
    return out;
  }

  /** "F(errorRate) P(latencyP99)" shortened to e.g. "F/P/P" in gate order: errorRate, latencyP99, restarts. */
  private static String verdicts(List<GateResultStatus> results) {
    StringBuilder b = new StringBuilder();
    for (GateResultStatus r : results) {
      if (b.length() > 0) {
        b.append('/');
      }
      b.append(r.getVerdict() == null ? "?" : r.getVerdict().name().charAt(0));
    }
    return b.toString();
  }

  private void reportRollbacks(String scenario, List<RollbackRun> runs) {
    report.append("\n### Time to roll back: scenario `").append(scenario).append("` (")
        .append(runs.size()).append(" runs)\n\n");
    report.append("t0 = ").append("broken".equals(scenario)
        ? "the first request the canary pod received (every request it gets fails inside ONNX Runtime: HTTP 500)"
        : "the first failing request after a canary that had passed its gates starts failing, at a random moment in an analysis interval")
        .append(". Times in seconds after t0. Evaluations: when the bench saw each gate evaluation of the canary, "
            + "verdicts errorRate/latencyP99/restarts (P pass, I inconclusive, F fail).\n\n");
    report.append("| run | decision (RollingBack) | canary Deployment deleted = 100% on stable | last request sent to canary "
        + "| Degraded | 5xx served by canary | evaluations after t0 |\n|---|---|---|---|---|---|---|\n");
    for (RollbackRun r : runs) {
      report.append(String.format(Locale.ROOT, "| %d | %.2f | %.2f | %.2f | %.2f | %d | %s |%n", r.run(), r.decision(),
          r.removed(), r.lastCanary(), r.degraded(), r.failedServed(), String.join(", ", r.evaluations())));
    }
    report.append("\n| measure | min | median | p90 | max |\n|---|---|---|---|---|\n");
    report.append(statsRow("decision", runs.stream().mapToDouble(RollbackRun::decision).toArray()));
    report.append(statsRow("**canary removed (headline)**", runs.stream().mapToDouble(RollbackRun::removed).toArray()));
    report.append(statsRow("Degraded", runs.stream().mapToDouble(RollbackRun::degraded).toArray()));
    report.append(statsRow("5xx served", runs.stream().mapToDouble(RollbackRun::failedServed).toArray()));
    long over = runs.stream().filter(r -> !(r.removed() <= 15)).count();
    report.append(String.format(Locale.ROOT, "%nRuns over the 15 s target: %d of %d.%n", over, runs.size()));
  }

  // ------------------------------------------------------------------------------------------ low traffic

  /**
   * A canary that fails every request but gets fewer than minRequests (50) requests per interval: each window is
   * Inconclusive, which neither advances nor rolls back. Observed for a bounded time, past the 1m step pause.
   */
  private void lowTraffic() throws Exception {
    String name = "lt";
    if (!timeLeft(Duration.ofSeconds(options.lowTrafficSeconds() + 20))) {
      return;
    }
    bringUp(name, false);
    LoadGenerator.Shape steady = new LoadGenerator.Shape(1, options.lowTrafficRate(), 0, 1000, 1000, 0, 0, 0, 0);
    try (LoadGenerator load = new LoadGenerator(cluster, name, steady, Duration.ofMinutes(5))) {
      MdepWatch watch = cluster.watch(name);
      String stable = watch.latest().orElseThrow().status().getStable().getRevision();
      load.breakAllBut(stable);
      long edited = System.nanoTime();
      cluster.edit(name, m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/" + name + "/2/"));
      Optional<Seen> progressing = watch.await(edited,
          s -> s.getCanary() != null && !stable.equals(s.getCanary().getRevision()), STEP_TIMEOUT);
      if (progressing.isEmpty()) {
        return;
      }
      String canary = progressing.get().status().getCanary().getRevision();
      Optional<Seen> ended = watch.await(edited, s -> canary.equals(s.getFailedRevision())
          || (s.getStable() != null && canary.equals(s.getStable().getRevision())),
          Duration.ofSeconds(options.lowTrafficSeconds()));
      LoadGenerator.RevisionCounts counts = load.counts(canary);
      long t0 = counts.firstFailingSendNanos.get();
      ModelDeploymentStatus last = watch.latest().orElseThrow().status();
      List<String> evaluations = evaluations(watch.since(edited), canary, t0);
      String firstMessage = last.getCanary() == null || last.getCanary().getAnalysis().isEmpty() ? "-"
          : last.getCanary().getAnalysis().get(0).getMessage();
      report.append(String.format(Locale.ROOT, "%n### A failing canary with little traffic (scenario `low-traffic`)%n%n"
              + "Load %.0f req/s in all, no bursts, no jitter; the canary (1 of 4 ready pods) fails every request. "
              + "Observed for %d s after the edit.%n%n"
              + "- outcome: **%s**; phase at the end: %s, step %s, reason `%s`%n"
              + "- requests the canary answered with a 5xx: %d (of %d sent to it)%n"
              + "- evaluations (seconds after its first request): %s%n"
              + "- last errorRate message: \"%s\"%n",
          options.lowTrafficRate(), options.lowTrafficSeconds(),
          ended.isPresent() ? (canary.equals(ended.get().status().getFailedRevision()) ? "rolled back after "
              + String.format(Locale.ROOT, "%.1f s", seconds(ended.get().nanos() - t0)) : "PROMOTED")
              : "neither rolled back nor advanced",
          last.getPhase(), last.getCanary() == null ? "-" : last.getCanary().getStep(),
          last.getConditions().stream().filter(c -> "Progressing".equals(c.getType())).map(c -> c.getReason())
              .findFirst().orElse("-"),
          counts.serverErrors.sum(), counts.requests.sum(), String.join(", ", evaluations), firstMessage));
      System.out.printf(Locale.ROOT, "[rollout-bench] low-traffic: %s; %d failed requests served; evaluations %s%n",
          ended.isPresent() ? "ended" : "still " + last.getPhase(), counts.serverErrors.sum(), evaluations);
    } finally {
      cluster.delete(name);
    }
  }

  // ------------------------------------------------------------------------------------------ slow pods

  /**
   * A healthy canary whose pods take {@code slowPodSeconds} to start (model download and load), with step pauses
   * shorter than that: how long does the canary really serve at each step's weight before it advances?
   */
  private void slowPods() throws Exception {
    String name = "sp";
    bringUp(name, true);
    cluster.podStartDelay.put(name, Duration.ofSeconds(options.slowPodSeconds()));
    try (LoadGenerator load = new LoadGenerator(cluster, name, shape(), Duration.ofMinutes(5))) {
      Thread.sleep(2000);
      MdepWatch watch = cluster.watch(name);
      String stable = watch.latest().orElseThrow().status().getStable().getRevision();
      long edited = System.nanoTime();
      cluster.edit(name, m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/" + name + "/2/"));
      Optional<Seen> progressing = watch.await(edited,
          s -> s.getCanary() != null && !stable.equals(s.getCanary().getRevision()), STEP_TIMEOUT);
      if (progressing.isEmpty()) {
        return;
      }
      String canary = progressing.get().status().getCanary().getRevision();
      watch.await(edited, s -> canary.equals(s.getFailedRevision())
          || (s.getPhase() == Phase.Stable && s.getStable() != null && canary.equals(s.getStable().getRevision())),
          Duration.ofSeconds(6L * options.slowPodSeconds() + 60));
      int[] targets = {1, 2, 4};
      double[] reached = {Double.NaN, Double.NaN, Double.NaN};
      double[] left = {Double.NaN, Double.NaN, Double.NaN};
      List<String> evaluations = new ArrayList<>();
      String lastAt = null;
      boolean canarySeen = false;
      for (Seen seen : watch.since(edited)) {
        var c = seen.status().getCanary();
        canarySeen |= c != null && canary.equals(c.getRevision());
        if (!canarySeen) {
          continue;
        }
        double t = seconds(seen.nanos() - edited);
        int step = c == null ? 3 : seen.status().getPhase() == Phase.Promoting ? 3 : c.getStep();
        for (int k = 0; k < 3; k++) {
          if (k < step && Double.isNaN(left[k])) {
            left[k] = t;
          }
        }
        if (c == null || !canary.equals(c.getRevision()) || step > 2) {
          continue;
        }
        Integer ready = c.getReadyReplicas();
        if (ready != null && ready >= targets[step] && Double.isNaN(reached[step])) {
          reached[step] = t;
        }
        if (!c.getAnalysis().isEmpty() && !c.getAnalysis().get(0).getAt().equals(lastAt)) {
          lastAt = c.getAnalysis().get(0).getAt();
          evaluations.add(String.format(Locale.ROOT, "%+.1f s%d %s", t, step, verdicts(c.getAnalysis())));
        }
      }
      report.append(String.format(Locale.ROOT, "%n### Slow canary pods (scenario `slow-pods`)%n%n"
          + "Healthy canary; every new pod takes %d s to start (emulated model download + load); steps 10%%/10s, "
          + "50%%/10s, 100%%. Seconds after the edit.%n%n| step | pods ready (step reached) | step left | "
          + "served at this step's weight before advancing | pause asked |%n|---|---|---|---|---|%n",
          options.slowPodSeconds()));
      for (int k = 0; k < 2; k++) {
        report.append(String.format(Locale.ROOT, "| %d | %.1f | %.1f | **%.1f s** | 10 s |%n", k, reached[k], left[k],
            left[k] - reached[k]));
      }
      report.append("\nEvaluations (time, step, errorRate/latencyP99/restarts): ").append(String.join(", ", evaluations))
          .append("\n");
      System.out.printf(Locale.ROOT, "[rollout-bench] slow-pods: step 0 served %.1f s, step 1 served %.1f s; %s%n",
          left[0] - reached[0], left[1] - reached[1], evaluations);
    } finally {
      cluster.podStartDelay.remove(name);
      cluster.delete(name);
    }
  }

  // ------------------------------------------------------------------------------------------ false rollbacks

  record HealthyRun(String mdep, int run, String canary, boolean promoted, double seconds, int evaluations,
      int failedEvaluations, int inconclusive, double maxRatio, String reason, List<String> verdicts) {}

  private void healthy() throws Exception {
    int parallel = Math.max(1, options.parallel());
    int perMdep = (options.healthyRuns() + parallel - 1) / parallel;
    List<String> names = new ArrayList<>();
    for (int p = 0; p < parallel; p++) {
      names.add("fr-" + p);
      bringUp("fr-" + p, true);
    }
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    List<Future<List<HealthyRun>>> futures = new ArrayList<>();
    int[] budget = {options.healthyRuns()};
    for (String name : names) {
      futures.add(pool.submit(() -> {
        List<HealthyRun> runs = new ArrayList<>();
        try (LoadGenerator load = new LoadGenerator(cluster, name, shape(), Duration.ofMinutes(15))) {
          Thread.sleep(3000);
          for (int i = 1; i <= perMdep && timeLeft(Duration.ofSeconds(60)); i++) {
            synchronized (budget) {
              if (budget[0] <= 0) {
                break;
              }
              budget[0]--;
            }
            healthyOnce(name, i, i + 1).ifPresent(r -> {
              runs.add(r);
              System.out.printf(Locale.ROOT, "[rollout-bench] healthy %s #%d: %s in %.1f s, evaluations %s%n",
                  r.mdep(), r.run(), r.promoted() ? "promoted" : "ROLLED BACK (" + r.reason() + ")", r.seconds(),
                  r.verdicts());
            });
          }
        }
        return runs;
      }));
    }
    List<HealthyRun> all = new ArrayList<>();
    for (Future<List<HealthyRun>> f : futures) {
      all.addAll(f.get(20, TimeUnit.MINUTES));
    }
    pool.shutdown();
    names.forEach(cluster::delete);
    reportHealthy(all);
  }

  private Optional<HealthyRun> healthyOnce(String name, int run, int version) throws Exception {
    MdepWatch watch = cluster.watch(name);
    String stable = watch.latest().orElseThrow().status().getStable().getRevision();
    long edited = System.nanoTime();
    cluster.edit(name, m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/" + name + "/" + version + "/"));
    Optional<Seen> progressing = watch.await(edited,
        s -> s.getCanary() != null && !stable.equals(s.getCanary().getRevision()), STEP_TIMEOUT);
    if (progressing.isEmpty()) {
      return Optional.empty();
    }
    String canary = progressing.get().status().getCanary().getRevision();
    Optional<Seen> ended = watch.await(edited, s -> canary.equals(s.getFailedRevision())
        || (s.getPhase() == Phase.Stable && s.getStable() != null && canary.equals(s.getStable().getRevision())),
        Duration.ofSeconds(180));
    if (ended.isEmpty()) {
      System.out.printf("[rollout-bench] healthy %s #%d: neither promoted nor rolled back in 180 s%n", name, run);
      return Optional.empty();
    }
    ModelDeploymentStatus end = ended.get().status();
    boolean promoted = !canary.equals(end.getFailedRevision());
    HistoryEntry last = end.getHistory().isEmpty() ? null : end.getHistory().get(0);
    String reason = last == null ? "-" : last.getOutcome() + " " + last.getReason();
    // Distinct evaluations, with the latency ratio they measured.
    int evaluations = 0;
    int failed = 0;
    int inconclusive = 0;
    double maxRatio = Double.NaN;
    List<String> verdicts = new ArrayList<>();
    String lastAt = null;
    for (Seen s : watch.since(edited)) {
      var c = s.status().getCanary();
      if (c == null || !canary.equals(c.getRevision()) || c.getAnalysis().isEmpty()) {
        continue;
      }
      String at = c.getAnalysis().get(0).getAt();
      if (at == null || at.equals(lastAt)) {
        continue;
      }
      lastAt = at;
      evaluations++;
      verdicts.add("s" + c.getStep() + ":" + verdicts(c.getAnalysis()));
      if (c.getAnalysis().stream().anyMatch(r -> r.getVerdict() == Verdict.Fail)) {
        failed++;
      } else if (c.getAnalysis().stream().anyMatch(r -> r.getVerdict() == Verdict.Inconclusive)) {
        inconclusive++;
      }
      for (GateResultStatus r : c.getAnalysis()) {
        if ("latencyP99".equals(r.getGate()) && r.getValue() != null) {
          maxRatio = Double.isNaN(maxRatio) ? r.getValue() : Math.max(maxRatio, r.getValue());
        }
      }
    }
    if (!promoted) {
      verdicts.add("F→rollback");
    }
    HealthyRun r = new HealthyRun(name, run, canary, promoted, seconds(ended.get().nanos() - edited), evaluations,
        failed, inconclusive, maxRatio, reason, verdicts);
    csv.add(String.join(",", "healthy", String.valueOf(run), name, canary, "", "", "", "", "", String.valueOf(evaluations),
        quote(String.join(" ", verdicts)), promoted ? "Promoted" : "RolledBack", f(r.seconds()), f(maxRatio), quote(reason)));
    if (!promoted) {
      // Give the next run a clean start: the failed revision is remembered, a new source starts a new canary.
      watch.await(edited, s -> s.getPhase() == Phase.Degraded, Duration.ofSeconds(30));
    }
    return Optional.of(r);
  }

  private void reportHealthy(List<HealthyRun> runs) {
    long rolledBack = runs.stream().filter(r -> !r.promoted()).count();
    report.append("\n### False rollbacks: healthy canaries under noisy load (").append(runs.size()).append(" rollouts, ")
        .append(options.parallel()).append(" ModelDeployments at a time)\n\n");
    report.append("Steps 10%/10s, 50%/10s, 100% (pauses shortened from 1m); everything else default. Promote time: "
        + "from the spec edit to status Stable on the new revision. Evaluations: step:errorRate/latencyP99/restarts.\n\n");
    report.append("| mdep | run | outcome | promote (s) | evaluations | with a Fail | Inconclusive | max p99 ratio | verdicts |\n"
        + "|---|---|---|---|---|---|---|---|---|\n");
    for (HealthyRun r : runs) {
      report.append(String.format(Locale.ROOT, "| %s | %d | %s | %.1f | %d | %d | %d | %.2f | %s |%n", r.mdep(), r.run(),
          r.promoted() ? "promoted" : "**rolled back** (" + r.reason() + ")", r.seconds(), r.evaluations(),
          r.failedEvaluations(), r.inconclusive(), r.maxRatio(), String.join(" ", r.verdicts())));
    }
    report.append("\n| measure | min | median | p90 | max |\n|---|---|---|---|---|\n");
    report.append(statsRow("promote time (s), promoted runs",
        runs.stream().filter(HealthyRun::promoted).mapToDouble(HealthyRun::seconds).toArray()));
    report.append(statsRow("max p99 ratio per rollout",
        runs.stream().mapToDouble(HealthyRun::maxRatio).filter(d -> !Double.isNaN(d)).toArray()));
    int evaluations = runs.stream().mapToInt(HealthyRun::evaluations).sum();
    int failed = runs.stream().mapToInt(HealthyRun::failedEvaluations).sum();
    report.append(String.format(Locale.ROOT, "%n**False rollbacks: %d of %d** healthy canaries. Evaluations with a Fail "
        + "verdict: %d of %d.%n", rolledBack, runs.size(), failed, evaluations));
  }

  // ------------------------------------------------------------------------------------------ helpers

  /** Creates a ModelDeployment and waits until its first revision is Stable with every pod in the Service. */
  private void bringUp(String name, boolean shortSteps) throws Exception {
    ModelDeployment mdep = ModelDeployments.s3(name, "s3://models/" + name + "/1/");
    mdep.getSpec().setReplicas(REPLICAS);
    if (shortSteps) {
      ModelDeployments.steps(mdep, 10, "10s", 50, "10s", 100, null);
    }
    long created = System.nanoTime();
    cluster.create(mdep);
    cluster.watch(name).await(created, s -> s.getPhase() == Phase.Stable, STEP_TIMEOUT)
        .orElseThrow(() -> new IllegalStateException(name + " never became Stable"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (cluster.endpoints(name).size() < REPLICAS && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }

  private static String statsRow(String label, double[] values) {
    if (values.length == 0) {
      return "| " + label + " | - | - | - | - |\n";
    }
    double[] v = values.clone();
    java.util.Arrays.sort(v);
    return String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", label, g(v[0]), g(median(v)),
        g(v[Math.max(0, (int) Math.ceil(0.9 * v.length) - 1)]), g(v[v.length - 1]));
  }

  private static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static String g(double d) {
    return d == Math.rint(d) && Math.abs(d) > 20 ? String.valueOf((long) d) : String.format(Locale.ROOT, "%.2f", d);
  }

  private static String f(double d) {
    return Double.isNaN(d) ? "" : String.format(Locale.ROOT, "%.3f", d);
  }

  private static String quote(String s) {
    return "\"" + s.replace("\"", "'") + "\"";
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }
}
