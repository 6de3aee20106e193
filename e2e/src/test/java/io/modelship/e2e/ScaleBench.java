package io.modelship.e2e;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.Phase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The operator, as the chart installs it, against {@code bench.count} ModelDeployments (default 1,000) on the real
 * one-node cluster: how long until every one is reconciled, the operator's heap after a full GC and its RSS, the
 * API writes per minute once nothing changes (from the API server's own request counters), and how soon one
 * change is acted on while the others idle. Each ModelDeployment has 0 replicas: the node cannot run 1,000 model
 * servers, and the operator's work per ModelDeployment (its Deployment, Services, PodDisruptionBudget,
 * NetworkPolicy and status) is the same. Run by {@code bench/scale.sh}; not a test (surefire runs it only when
 * named); writes results.md to {@code bench.out}.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class ScaleBench {
  private static final String NAMESPACE = "bench-scale";
  /** What the operator writes; the apiserver's counters by resource (status and scale subresources included). */
  private static final Set<String> OPERATOR_RESOURCES = Set.of("modeldeployments", "deployments", "services",
      "configmaps", "secrets", "poddisruptionbudgets", "networkpolicies", "events", "httproutes");
  private static final Pattern REQUESTS = Pattern.compile(
      "^apiserver_request_total\\{(.*)\\} ([0-9.e+]+)$", Pattern.MULTILINE);

  @Test
  @SuppressWarnings("unchecked")
  void aThousandModelDeployments() throws Exception {
    int count = Integer.getInteger("bench.count", 1000);
    int steadySeconds = Integer.getInteger("bench.steadySeconds", 120);
    Path out = Path.of(System.getProperty("bench.out", "target/bench/scale"));
    Files.createDirectories(out);
    RealCluster cluster = RealCluster.get();
    cluster.freshNamespace(NAMESPACE);
    cluster.client().resource(new SecretBuilder().withNewMetadata().withName(ModelStore.SECRET).withNamespace(NAMESPACE)
        .endMetadata().addToStringData("AWS_ACCESS_KEY_ID", "bench").addToStringData("AWS_SECRET_ACCESS_KEY", "bench")
        .build()).create();
    List<String> report = new ArrayList<>();
    report.add("# The operator against %d ModelDeployments (real one-node cluster)".formatted(count));
    report.add("");

    // 1. Create them all, four writers at once, and time until each one's status is of its spec.
    long started = System.nanoTime();
    ExecutorService writers = Executors.newFixedThreadPool(4);
    List<Future<?>> created = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String name = "m%04d".formatted(i);
      created.add(writers.submit(() -> cluster.client().resource(
          Specs.s3(NAMESPACE, name, null, "s3://models/" + name + "/1/", 0)).create()));
    }
    for (Future<?> f : created) {
      f.get(10, TimeUnit.MINUTES);
    }
    writers.shutdown();
    double createdIn = seconds(started);
    progress("created %d ModelDeployments in %.1f s".formatted(count, createdIn));
    double[] objectsIn = {Double.NaN};
    long[] lastProgress = {System.nanoTime()};
    await("every ModelDeployment reconciled").atMost(Duration.ofMinutes(30)).pollInterval(Duration.ofSeconds(2))
        .until(() -> {
          if (Double.isNaN(objectsIn[0])
              && cluster.client().network().v1().networkPolicies().inNamespace(NAMESPACE).list().getItems().size() == count) {
            objectsIn[0] = seconds(started);
            progress("every object made %.1f s after the first create".formatted(objectsIn[0]));
          }
          long done = reconciled(cluster);
          if (System.nanoTime() - lastProgress[0] > 10_000_000_000L) {
            lastProgress[0] = System.nanoTime();
            progress("%d of %d reconciled after %.0f s".formatted(done, count, seconds(started)));
          }
          return done == count;
        });
    double allIn = seconds(started);
    progress("all %d reconciled %.1f s after the first was created".formatted(count, allIn));
    report.add("| measure | value |");
    report.add("| --- | --- |");
    report.add("| created (4 writers) | %.1f s |".formatted(createdIn));
    report.add("| every object made (a NetworkPolicy, the last one applied, for each), from the first create | %.1f s |"
        .formatted(objectsIn[0]));
    report.add("| all Stable (a later pass, once the deployment controller has written each Deployment's status) | %.1f s |"
        .formatted(allIn));
    report.add("| objects the operator made | %s |".formatted(objects(cluster)));

    // 2. Steady state: let the last reactions settle, then count the writes nobody asked for.
    // Settled: the operator's write counters have not moved for 15 s (at most 5 minutes of waiting).
    Map<String, Double>[] last = new Map[] {writes(cluster)};
    long[] quietSince = {System.nanoTime()};
    await("the operator's writes settle").atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(3)).until(() -> {
      Map<String, Double> now = writes(cluster);
      if (!now.equals(last[0])) {
        last[0] = now;
        quietSince[0] = System.nanoTime();
      }
      return seconds(quietSince[0]) >= 15;
    });
    Map<String, Double> before = writes(cluster);
    long steadyStart = System.nanoTime();
    // The measurement window itself: a fixed stretch of time, during which nothing is asked of the operator.
    await().pollDelay(Duration.ofSeconds(steadySeconds)).atMost(Duration.ofSeconds(steadySeconds + 1)).until(() -> true);
    Map<String, Double> after = writes(cluster);
    double minutes = seconds(steadyStart) / 60;
    Map<String, Double> delta = new TreeMap<>();
    after.forEach((key, value) -> {
      double d = value - before.getOrDefault(key, 0.0);
      if (d > 0) {
        delta.put(key, d);
      }
    });
    double total = delta.values().stream().mapToDouble(Double::doubleValue).sum();
    progress("steady state: %.1f writes/min to the operator's kinds over %.1f min: %s".formatted(
        total / minutes, minutes, delta));
    report.add("| API writes per minute at steady state (operator's kinds, from apiserver_request_total, %.0f min) | %.1f %s |"
        .formatted(minutes, total / minutes, delta.isEmpty() ? "" : delta.toString()));

    // 3. The operator's memory, as the host sees its process.
    long pid = operatorPid(cluster);
    report.add("| operator RSS | %d MiB |".formatted(rssKib(pid) / 1024));
    String heap = heapAfterFullGc(pid);
    report.add("| operator heap after a full GC (jcmd GC.run, then GC.heap_info) | %s |".formatted(heap));
    progress("operator pid %d: RSS %d MiB, heap after a full GC: %s".formatted(pid, rssKib(pid) / 1024, heap));

    // 4. One change among the idle: replicas 0 -> 1 -> 0 on one ModelDeployment, until its Deployment has it.
    List<Double> latencies = new ArrayList<>();
    var one = new Mdeps(cluster, NAMESPACE, "m0000");
    // Read by name: listing a thousand Deployments at every poll would be most of what is measured.
    String deployment = one.revisionDeployments().get(0);
    var watched = cluster.client().apps().deployments().inNamespace(NAMESPACE).withName(deployment);
    for (int i = 0; i < 6; i++) {
      int replicas = i % 2 == 0 ? 1 : 0;
      long changed = System.nanoTime();
      one.edit(m -> m.getSpec().setReplicas(replicas));
      await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(20))
          .until(() -> watched.get().getSpec().getReplicas() == replicas);
      latencies.add(seconds(changed) * 1000);
    }
    double[] sorted = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    report.add("| one change acted on (replicas edited -> its Deployment scaled), median of %d (min, max) | %.0f ms (%.0f, %.0f) |"
        .formatted(sorted.length, sorted[sorted.length / 2], sorted[0], sorted[sorted.length - 1]));
    progress("one change: %s ms".formatted(Arrays.toString(sorted)));
    report.add("");
    report.add("_Operator: the chart's defaults (limit 768Mi, -XX:MaxRAMPercentage=75). ModelDeployments with 0 "
        + "replicas (no pods): the node cannot run %d model servers._".formatted(count));
    Files.writeString(out.resolve("results.md"), String.join("\n", report) + "\n");
    progress("results: " + out.resolve("results.md").toAbsolutePath() + "\n" + String.join("\n", report));
  }

  /**
   * How many are done: Stable for the spec, and the objects made. The operator records its decision in status
   * before it acts, and a pass after the objects exist finds the revision ready: until then it still writes.
   */
  private static long reconciled(RealCluster cluster) {
    long recorded = cluster.client().resources(ModelDeployment.class).inNamespace(NAMESPACE).list().getItems().stream()
        .filter(m -> m.getStatus() != null && m.getStatus().getPhase() == Phase.Stable
            && m.getMetadata().getGeneration().equals(m.getStatus().getObservedGeneration()))
        .count();
    long policies = cluster.client().network().v1().networkPolicies().inNamespace(NAMESPACE).list().getItems().size();
    return Math.min(recorded, policies);
  }

  private static String objects(RealCluster cluster) {
    var c = cluster.client();
    return "%d Deployments, %d Services, %d PodDisruptionBudgets, %d NetworkPolicies, %d Secrets".formatted(
        c.apps().deployments().inNamespace(NAMESPACE).list().getItems().size(),
        c.services().inNamespace(NAMESPACE).list().getItems().size(),
        c.policy().v1().podDisruptionBudget().inNamespace(NAMESPACE).list().getItems().size(),
        c.network().v1().networkPolicies().inNamespace(NAMESPACE).list().getItems().size(),
        c.secrets().inNamespace(NAMESPACE).list().getItems().size());
  }

  /** The apiserver's write counters (POST, PUT, PATCH, DELETE) for the kinds the operator writes, by verb and kind. */
  private static Map<String, Double> writes(RealCluster cluster) {
    String metrics = cluster.kubectl("get", "--raw", "/metrics");
    Map<String, Double> writes = new TreeMap<>();
    Matcher m = REQUESTS.matcher(metrics);
    while (m.find()) {
      Map<String, String> labels = labels(m.group(1));
      String verb = labels.getOrDefault("verb", "");
      String resource = labels.getOrDefault("resource", "");
      if (Set.of("POST", "PUT", "PATCH", "DELETE", "APPLY").contains(verb) && OPERATOR_RESOURCES.contains(resource)) {
        String subresource = labels.getOrDefault("subresource", "");
        // The deployment controller writes Deployments' status; that is not the operator's doing.
        if (resource.equals("deployments") && subresource.equals("status")) {
          continue;
        }
        String key = verb + " " + resource + (subresource.isEmpty() ? "" : "/" + subresource);
        writes.merge(key, Double.parseDouble(m.group(2)), Double::sum);
      }
    }
    return writes;
  }

  private static Map<String, String> labels(String text) {
    Map<String, String> labels = new TreeMap<>();
    Matcher m = Pattern.compile("([a-zA-Z_]+)=\"([^\"]*)\"").matcher(text);
    while (m.find()) {
      labels.put(m.group(1), m.group(2));
    }
    return labels;
  }

  /** The operator's java process on this host, found by its pod name in HOSTNAME. */
  private static long operatorPid(RealCluster cluster) throws IOException {
    String pod = cluster.client().pods().inNamespace(RealCluster.OPERATOR_NAMESPACE)
        .withLabel("app.kubernetes.io/name", "modelship-operator").list().getItems().get(0).getMetadata().getName();
    List<Long> pids = cluster.javaProcessesOf(pod);
    if (!pids.isEmpty()) {
      return pids.get(0);
    }
    throw new IllegalStateException("no java process of the operator pod " + pod + " on this host");
  }

  private static long rssKib(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    return -1;
  }

  /** jcmd from the host (root may attach to a JVM in a container): a full GC, then the heap's use. */
  private static String heapAfterFullGc(long pid) {
    try {
      String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
      run(jcmd, String.valueOf(pid), "GC.run");
      String info = run(jcmd, String.valueOf(pid), "GC.heap_info");
      progress("GC.heap_info:\n" + info.strip());
      // Every space of the heap ("garbage-first heap", or a serial/parallel collector's generations), not Metaspace.
      Matcher space = Pattern.compile("(?m)^\\s*(garbage-first heap|def new generation|tenured generation|PSYoungGen|"
          + "ParOldGen|ZHeap|Shenandoah)\\s+total (\\d+)K, used (\\d+)K").matcher(info);
      long total = 0;
      long used = 0;
      List<String> spaces = new ArrayList<>();
      while (space.find()) {
        total += Long.parseLong(space.group(2));
        used += Long.parseLong(space.group(3));
        spaces.add(space.group(1));
      }
      return spaces.isEmpty() ? "unreadable: " + info.strip()
          : "%d MiB used of %d MiB committed (%s)".formatted(used / 1024, total / 1024, String.join(", ", spaces));
    } catch (IOException | InterruptedException | RuntimeException e) {
      return "not measured (" + e.getMessage() + ")";
    }
  }

  private static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + ": " + output.strip());
    }
    return output;
  }

  private static double seconds(long since) {
    return (System.nanoTime() - since) / 1e9;
  }

  private static void progress(String message) {
    RealCluster.progress(String.format(Locale.ROOT, "%s", message));
  }
}
