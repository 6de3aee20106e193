package io.modelship.e2e;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.HistoryEntry;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The rollout benchmark on the real one-node cluster: rollouts with <b>default settings</b> (steps 10%/1m, 50%/1m,
 * 100%; analysis every 5 s; default gates and warm-up), 3 replicas, traffic through the client Service. Healthy new
 * versions must be promoted with no client error; a slower one, an erroring one (5xx), a schema-breaking one (4xx
 * for every request) and one that crashes must be rolled back, fast. Run by {@code bench/rollout-real.sh}; it is
 * not a test (surefire runs it only when named) and asserts nothing: it writes what it measured to
 * {@code bench.out} (results.md, runs.csv).
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class RolloutBench {
  private static final String NAMESPACE = "bench-rollout";
  private static final String NAME = "iris";
  private static final int REPLICAS = 3;
  private static final int RATE = Integer.getInteger("bench.rate", 50);
  private static final String REVISION_LABEL = "modelship.io/revision";

  private RealCluster cluster;
  private ModelStore store;
  private Mdeps mdep;

  /** One rollout and what was measured of it; times in seconds from the canary's first ready pod. */
  record Run(String kind, String revision, String outcome, String reason, Double decision, Double cutover,
      Double lastCanaryAnswer, long clientErrors, Map<String, Long> errorKinds, long canaryAnswers,
      Integer minStableReadyAfterDecision, Boolean canaryKeptUntilStableFull, double durationSeconds,
      List<String> steps) {}

  @Test
  void rollouts() throws Exception {
    int healthy = Integer.getInteger("bench.healthy", 10);
    int faultRepeats = Integer.getInteger("bench.faultRepeats", 2);
    List<String> faults = Arrays.stream(System.getProperty("bench.faults", "slow,errors,schema,crash").split(","))
        .map(String::strip).filter(s -> !s.isEmpty()).toList();
    Path out = Path.of(System.getProperty("bench.out", "target/bench/rollout-real"));
    Files.createDirectories(out);

    cluster = RealCluster.get();
    store = ModelStore.inFreshNamespace(cluster, NAMESPACE);
    mdep = new Mdeps(cluster, NAMESPACE, NAME);
    Instant began = Instant.now();

    String v0 = store.putMlp("iris/0", new Mlp(4, 256, 2, 3, 1000));
    var spec = Specs.s3(NAMESPACE, NAME, store, v0, REPLICAS);
    spec.getSpec().setServer(null); // default warm-up, as a user who sets nothing gets
    cluster.client().resource(spec).create();
    await("the first version serves").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
        .untilAsserted(() -> {
          if (mdep.phase() != Phase.Stable || mdep.stable().getReadyReplicas() < REPLICAS) {
            throw new AssertionError("not stable yet: " + mdep.phase());
          }
        });
    RealCluster.progress("bench: stable with " + REPLICAS + " pods; " + RATE + " requests/s through the Service");

    List<Run> runs = new ArrayList<>();
    try (Traffic traffic = new Traffic(mdep.clusterIp(), NAME, Traffic.IRIS_BODY, RATE, 64); Sampler sampler = new Sampler()) {
      int version = 1;
      for (int r = 0; r < faultRepeats; r++) {
        for (String fault : faults) {
          String uri = switch (fault) {
            case "slow" -> store.putSlowMlp("iris/" + version, new Mlp(4, 512, 1, 3, version), 400);
            case "errors" -> store.putFailing("iris/" + version);
            case "schema" -> store.putMlp("iris/" + version, new Mlp(5, 256, 2, 3, version));
            case "crash" -> store.putMlp("iris/" + version, new Mlp(4, 256, 2, 3, version));
            default -> throw new IllegalArgumentException("unknown fault " + fault);
          };
          runs.add(rollout(fault, uri, traffic, sampler));
          version++;
          write(out, runs, began);
        }
      }
      for (int i = 0; i < healthy; i++) {
        runs.add(rollout("healthy", store.putMlp("iris/" + version, new Mlp(4, 256, 2, 3, version)), traffic, sampler));
        version++;
        write(out, runs, began);
      }
      RealCluster.progress("bench: answers over the whole run: " + traffic.answers());
    }
    write(out, runs, began);
    Files.writeString(out.resolve("events.txt"), cluster.kubectl("get", "events", "-n", NAMESPACE, "--sort-by=.lastTimestamp"));
    Files.writeString(out.resolve("operator.log"), cluster.kubectl("logs", "-n", RealCluster.OPERATOR_NAMESPACE,
        "-l", "app.kubernetes.io/name=modelship-operator", "--tail=3000"));
    RealCluster.progress("bench: results in " + out.toAbsolutePath().resolve("results.md"));
  }

  private Run rollout(String kind, String uri, Traffic traffic, Sampler sampler) throws Exception {
    String stable = mdep.stable().getRevision();
    Map<String, Long> before = traffic.answers();
    Instant started = Instant.now();
    mdep.newSource(uri);
    String canary = await("the canary revision").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200))
        .until(() -> {
          ModelDeploymentStatus s = mdep.status();
          if (s.getCanary() != null && !s.getCanary().getRevision().equals(stable)) {
            return s.getCanary().getRevision();
          }
          return s.getHistory().isEmpty() || s.getHistory().get(0).getRevision().equals(stable) ? null
              : s.getHistory().get(0).getRevision();
        }, java.util.Objects::nonNull);
    RealCluster.progress("bench: " + kind + " rollout of revision " + canary + " (" + uri + ")");
    sampler.track(canary, stable, traffic);
    if (kind.equals("crash")) {
      Instant ready = await("the canary ready").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(100))
          .until(sampler::canaryReadyAt, Optional::isPresent).get();
      await("two seconds of traffic").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
          .until(() -> Duration.between(ready, Instant.now()).toMillis() >= 2000);
      cluster.sigkill(sampler.canaryPod().orElseThrow());
    }
    HistoryEntry ended = await("the rollout of " + canary + " ends").atMost(Duration.ofMinutes(8))
        .pollInterval(Duration.ofMillis(500)).until(() -> {
          ModelDeploymentStatus s = mdep.status();
          boolean settled = s.getPhase() == Phase.Stable || s.getPhase() == Phase.Degraded;
          return settled && !s.getHistory().isEmpty() && s.getHistory().get(0).getRevision().equals(canary)
              ? s.getHistory().get(0) : null;
        }, java.util.Objects::nonNull);
    boolean rolledBack = ended.getOutcome() != HistoryEntry.Outcome.Promoted;
    if (rolledBack) {
      // The canary's Deployment goes, and its last keep-alive connections with it.
      await("the canary gone").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(500))
          .until(() -> sampler.canaryGoneAt().isPresent());
    }
    if (rolledBack) {
      await("no answer from the canary for 10 s").atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(500))
          .until(() -> lastCanaryAnswer(traffic, canary, stable)
              .map(t -> Duration.between(t, Instant.now()).toSeconds() >= 10).orElse(true));
    }
    double duration = Duration.between(started, Instant.now()).toMillis() / 1000.0;

    Map<String, Long> after = traffic.answers();
    Map<String, Long> errorKinds = new TreeMap<>();
    after.forEach((k, v) -> {
      long d = v - before.getOrDefault(k, 0L);
      if (d > 0 && !k.startsWith("200 ") && !k.startsWith("skipped")) {
        errorKinds.put(k, d);
      }
    });
    long errors = errorKinds.values().stream().mapToLong(Long::longValue).sum();
    long canaryAnswers = after.getOrDefault("200 " + canary, 0L) - before.getOrDefault("200 " + canary, 0L);
    Optional<Instant> ready = sampler.canaryReadyAt();
    Run run = new Run(kind, canary, ended.getOutcome().toString(), ended.getReason(),
        since(ready, sampler.decisionAt()), rolledBack ? since(ready, sampler.cutoverAt()) : null,
        rolledBack ? since(ready, lastCanaryAnswer(traffic, canary, stable)) : null,
        errors, errorKinds, canaryAnswers, rolledBack ? sampler.minStableReadyAfterDecision() : null,
        rolledBack ? sampler.canaryKeptUntilStableFull() : null, duration, sampler.steps(canary));
    sampler.stop();
    RealCluster.progress("bench: " + kind + " " + run.outcome() + " in " + String.format(Locale.ROOT, "%.0f s", duration)
        + "; decision " + seconds(run.decision()) + ", cutover " + seconds(run.cutover()) + ", last canary answer "
        + seconds(run.lastCanaryAnswer()) + " after ready; client errors " + errorKinds + "; steps " + run.steps());
    return run;
  }

  /**
   * The last answer that came from the canary: a 200 naming its revision, or any failure (the stable revision
   * answers every request of this traffic with a 200).
   */
  private static Optional<Instant> lastCanaryAnswer(Traffic traffic, String canary, String stable) {
    return traffic.kinds().stream()
        .filter(k -> k.equals("200 " + canary) || (!k.startsWith("200 ") && !k.startsWith("skipped")))
        .map(traffic::lastAt).flatMap(Optional::stream).max(Instant::compareTo);
  }

  private static Double since(Optional<Instant> from, Optional<Instant> to) {
    return from.isPresent() && to.isPresent() ? Duration.between(from.get(), to.get()).toMillis() / 1000.0 : null;
  }

  private static String seconds(Double s) {
    return s == null ? "-" : String.format(Locale.ROOT, "%.1f s", s);
  }

  /**
   * Watches the cluster four times a second while a rollout runs: when the canary's first pod turned ready, when
   * the operator decided, when the client Service stopped selecting the canary, the stable's ready pods after the
   * decision and when the canary's Deployment went; and, per step, the weight status quoted and the share of
   * answers the canary really gave.
   */
  private final class Sampler implements AutoCloseable {
    private final ScheduledExecutorService poll = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bench-sampler");
      t.setDaemon(true);
      return t;
    });
    private volatile String canary;
    private volatile String stable;
    private volatile Traffic traffic;
    private volatile Instant readyAt;
    private volatile String readyPod;
    private volatile Instant decisionAt;
    private volatile Instant cutoverAt;
    private volatile Instant goneAt;
    private volatile Instant stableFullAt;
    private volatile Integer minStableReady;
    private volatile Boolean keptUntilFull;
    /** Step index → weights status quoted, and the answer counts when the step was first seen reached. */
    private final Map<Integer, java.util.Set<Integer>> weights = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<Integer, Map<String, Long>> stepStart = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<Integer, Map<String, Long>> stepEnd = new java.util.concurrent.ConcurrentHashMap<>();

    Sampler() {
      poll.scheduleWithFixedDelay(this::sample, 0, 250, TimeUnit.MILLISECONDS);
    }

    synchronized void track(String canary, String stable, Traffic traffic) {
      this.readyAt = null;
      this.readyPod = null;
      this.decisionAt = null;
      this.cutoverAt = null;
      this.goneAt = null;
      this.stableFullAt = null;
      this.minStableReady = null;
      this.keptUntilFull = null;
      weights.clear();
      stepStart.clear();
      stepEnd.clear();
      this.stable = stable;
      this.traffic = traffic;
      this.canary = canary;
    }

    synchronized void stop() {
      canary = null;
    }

    private synchronized void sample() {
      String c = canary;
      if (c == null) {
        return;
      }
      try {
        Instant now = Instant.now();
        var client = cluster.client();
        List<Pod> pods = client.pods().inNamespace(NAMESPACE).withLabel(REVISION_LABEL, c).list().getItems();
        if (readyAt == null) {
          pods.stream().filter(RolloutBench::ready).findFirst().ifPresent(p -> {
            readyAt = now;
            readyPod = p.getMetadata().getName();
          });
        }
        ModelDeployment m = client.resources(ModelDeployment.class).inNamespace(NAMESPACE).withName(NAME).get();
        ModelDeploymentStatus s = m == null ? null : m.getStatus();
        if (s != null && decisionAt == null && (c.equals(s.getFailedRevision())
            || (!s.getHistory().isEmpty() && c.equals(s.getHistory().get(0).getRevision())))) {
          decisionAt = now;
        }
        if (s != null && s.getCanary() != null && c.equals(s.getCanary().getRevision()) && s.getCanary().getStepReachedAt() != null) {
          int step = s.getCanary().getStep();
          if (s.getCanary().getWeight() != null) {
            weights.computeIfAbsent(step, k -> new java.util.TreeSet<>()).add(s.getCanary().getWeight());
          }
          stepStart.computeIfAbsent(step, k -> traffic.answers());
          stepEnd.put(step, traffic.answers());
        }
        var service = client.services().inNamespace(NAMESPACE).withName(NAME).get();
        if (decisionAt != null && cutoverAt == null && service != null
            && stable.equals(service.getSpec().getSelector().get(REVISION_LABEL))) {
          cutoverAt = now;
        }
        List<Deployment> deployments = client.apps().deployments().inNamespace(NAMESPACE).list().getItems();
        boolean canaryExists = deployments.stream().anyMatch(d -> c.equals(revisionOf(d)));
        int stableReady = deployments.stream().filter(d -> stable.equals(revisionOf(d)))
            .map(d -> d.getStatus() == null || d.getStatus().getReadyReplicas() == null ? 0 : d.getStatus().getReadyReplicas())
            .findFirst().orElse(0);
        if (decisionAt != null) {
          minStableReady = minStableReady == null ? stableReady : Math.min(minStableReady, stableReady);
          if (stableFullAt == null && stableReady >= REPLICAS) {
            stableFullAt = now;
          }
        }
        if (goneAt == null && !canaryExists && readyAt != null) {
          goneAt = now;
          keptUntilFull = stableFullAt != null;
        }
      } catch (RuntimeException e) {
        // one missed sample; the next one comes in 250 ms
      }
    }

    Optional<Instant> canaryReadyAt() {
      return Optional.ofNullable(readyAt);
    }

    Optional<String> canaryPod() {
      return Optional.ofNullable(readyPod);
    }

    Optional<Instant> decisionAt() {
      return Optional.ofNullable(decisionAt);
    }

    Optional<Instant> cutoverAt() {
      return Optional.ofNullable(cutoverAt);
    }

    Optional<Instant> canaryGoneAt() {
      return Optional.ofNullable(goneAt);
    }

    Integer minStableReadyAfterDecision() {
      return minStableReady;
    }

    Boolean canaryKeptUntilStableFull() {
      return keptUntilFull;
    }

    /** Per step reached: "step 0: status 33%, answers 31%". */
    List<String> steps(String canary) {
      List<String> steps = new ArrayList<>();
      new TreeMap<>(weights).forEach((step, quoted) -> {
        Map<String, Long> a = stepStart.getOrDefault(step, Map.of());
        Map<String, Long> b = stepEnd.getOrDefault(step, Map.of());
        long all = 0;
        long fromCanary = 0;
        for (var e : b.entrySet()) {
          if (e.getKey().startsWith("200 ")) {
            long d = e.getValue() - a.getOrDefault(e.getKey(), 0L);
            all += d;
            if (e.getKey().equals("200 " + canary)) {
              fromCanary += d;
            }
          }
        }
        steps.add(String.format(Locale.ROOT, "step %d: status %s, answers %s", step,
            quoted.stream().map(w -> w + "%").collect(Collectors.joining("/")),
            all == 0 ? "-" : Math.round(100.0 * fromCanary / all) + "%"));
      });
      return steps;
    }

    @Override
    public void close() {
      poll.shutdownNow();
    }
  }

  private static String revisionOf(Deployment d) {
    return d.getMetadata().getLabels() == null ? null : d.getMetadata().getLabels().get(REVISION_LABEL);
  }

  private static boolean ready(Pod pod) {
    return pod.getStatus() != null && pod.getStatus().getConditions() != null
        && pod.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static void write(Path out, List<Run> runs, Instant began) throws Exception {
    StringBuilder csv = new StringBuilder("kind,revision,outcome,decision_s,cutover_s,last_canary_answer_s,client_errors,"
        + "canary_answers,min_stable_ready_after_decision,canary_kept_until_stable_full,duration_s,reason\n");
    for (Run r : runs) {
      csv.append(String.join(",", r.kind(), r.revision(), r.outcome(), num(r.decision()), num(r.cutover()),
          num(r.lastCanaryAnswer()), String.valueOf(r.clientErrors()), String.valueOf(r.canaryAnswers()),
          String.valueOf(r.minStableReadyAfterDecision()), String.valueOf(r.canaryKeptUntilStableFull()),
          num(r.durationSeconds()), '"' + r.reason().replace("\"", "'") + '"')).append('\n');
    }
    Files.writeString(out.resolve("runs.csv"), csv);

    StringBuilder md = new StringBuilder();
    md.append("Rollouts on the real one-node cluster, default settings, ").append(REPLICAS)
        .append(" replicas, ").append(RATE).append(" requests/s through the client Service; ")
        .append(String.format(Locale.ROOT, "%.0f min of bench time.%n%n", Duration.between(began, Instant.now()).toSeconds() / 60.0));
    List<Run> healthy = runs.stream().filter(r -> r.kind().equals("healthy")).toList();
    if (!healthy.isEmpty()) {
      long promoted = healthy.stream().filter(r -> r.outcome().equals("Promoted")).count();
      long errors = healthy.stream().mapToLong(Run::clientErrors).sum();
      md.append(String.format(Locale.ROOT, "### Healthy versions: %d of %d promoted, %d false rollbacks, %d client errors%n%n",
          promoted, healthy.size(), healthy.size() - promoted, errors));
      md.append("| run | outcome | duration | client errors | steps: weight in status / share of answers from the canary |\n");
      md.append("| --- | --- | --- | --- | --- |\n");
      int i = 1;
      for (Run r : healthy) {
        md.append(String.format(Locale.ROOT, "| %d | %s | %.0f s | %d | %s |%n", i++, r.outcome(), r.durationSeconds(),
            r.clientErrors(), String.join("; ", r.steps())));
      }
      md.append('\n');
    }
    List<Run> faults = runs.stream().filter(r -> !r.kind().equals("healthy")).toList();
    if (!faults.isEmpty()) {
      md.append("### Faulty versions: times from the canary's first ready pod\n\n");
      md.append("| version | outcome | decision | Service selects stable only | last answer from the canary | "
          + "client errors | stable ready after the decision (min) | canary kept until stable full | why |\n");
      md.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
      for (Run r : faults) {
        md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %d %s | %s | %s | %s |%n", r.kind(), r.outcome(),
            seconds(r.decision()), seconds(r.cutover()), seconds(r.lastCanaryAnswer()), r.clientErrors(),
            r.errorKinds(), r.minStableReadyAfterDecision(), r.canaryKeptUntilStableFull(),
            r.reason().length() > 160 ? r.reason().substring(0, 157) + "..." : r.reason()));
      }
      List<Double> last = faults.stream().map(Run::lastCanaryAnswer).filter(java.util.Objects::nonNull).sorted().toList();
      List<Double> cut = faults.stream().map(Run::cutover).filter(java.util.Objects::nonNull).sorted().toList();
      if (!last.isEmpty()) {
        md.append(String.format(Locale.ROOT, "%nRolled back: %d of %d. Ready to the Service selecting stable only: median %.1f s, max %.1f s. "
                + "Ready to the last answer from the canary (100%% of traffic on stable): median %.1f s, max %.1f s.%n",
            faults.stream().filter(r -> !r.outcome().equals("Promoted")).count(), faults.size(),
            median(cut), cut.isEmpty() ? Double.NaN : cut.get(cut.size() - 1), median(last), last.get(last.size() - 1)));
      }
      Map<String, List<Run>> byKind = new LinkedHashMap<>();
      faults.forEach(r -> byKind.computeIfAbsent(r.kind(), k -> new ArrayList<>()).add(r));
      md.append("\n| version | runs | client errors per run |\n| --- | --- | --- |\n");
      byKind.forEach((k, rs) -> md.append("| ").append(k).append(" | ").append(rs.size()).append(" | ")
          .append(rs.stream().map(r -> String.valueOf(r.clientErrors())).collect(Collectors.joining(", "))).append(" |\n"));
    }
    Files.writeString(out.resolve("results.md"), md);
  }

  private static double median(List<Double> sorted) {
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  private static String num(Double v) {
    return v == null ? "" : String.format(Locale.ROOT, "%.2f", v);
  }
}
