package io.modelship.e2e;

import static org.awaitility.Awaitility.await;

import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.HistoryEntry;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.awaitility.core.ConditionTimeoutException;

/**
 * The story the README's run command plays on a real cluster, with real traffic through the client Service for all
 * of it: v1 becomes stable; a good v2 goes 10 % → 50 % → 100 % with its gate's value and verdict at each step and
 * is promoted without a client error; a v3 that fails every request is rolled back by its gate while v2 serves on.
 * It prints a timeline as it goes, then a summary table, and writes the picture (SVG) and a page (HTML) of it.
 * The end-to-end tier plays the same story (DemoE2eTest).
 */
final class DemoStory {
  static final String MODEL = "iris";
  private static final Duration STABLE_WITHIN = Duration.ofMinutes(4);
  private static final Duration ROLLOUT_WITHIN = Duration.ofMinutes(4);
  private static final int REQUESTS_PER_SECOND = 20;

  /** How it went: what did not go as the story says (nothing, when it did), and what was written where. */
  record Result(List<String> problems, Path page, Path picture, List<List<String>> rows, Map<String, Long> answers,
      List<String> timeline, List<String> reasons, List<String> warnings, String kubectlTable) {
    boolean asExpected() {
      return problems.isEmpty();
    }
  }

  static final List<String> HEADER = List.of("version", "revision", "outcome", "time per step", "answered (clients)",
      "5xx (pods' metrics)", "client-visible failures while it rolled out");

  private final RealCluster cluster;
  private final ModelStore store;
  private final Mdeps iris;
  private final PrintStream out;
  private final List<String> problems = new ArrayList<>();
  private Map<String, String> podsAtStart = Map.of();
  private String kubectlTable = "";

  DemoStory(RealCluster cluster, ModelStore store, String namespace, PrintStream out) {
    this.cluster = cluster;
    this.store = store;
    this.iris = new Mdeps(cluster, namespace, MODEL);
    this.out = out;
  }

  Mdeps mdep() {
    return iris;
  }

  /** Plays the story and writes rollout.svg, rollout.html, timeline.txt and summary.md into {@code outDir}. */
  Result play(Path outDir) throws Exception {
    String v1 = store.putMlp(MODEL + "/1", new Mlp(4, 16, 1, 3, 1));
    String v2 = store.putMlp(MODEL + "/2", new Mlp(4, 16, 1, 3, 2));
    String v3 = store.putFailing(MODEL + "/3");
    out.println("[demo] S3 server " + store.endpoint + " holds " + v1 + " (v1), " + v2 + " (v2, good) and " + v3
        + " (v3: loads, then fails inside ONNX Runtime on every request)");
    ModelDeployment spec = Specs.errorRateGate(Specs.steps(Specs.s3(iris.namespace, MODEL, store, v1, 2),
        10, "10s", 50, "10s", 100, null), "2s", 10, 0.05);
    // In place: each new version moves into the two running pods, which give it exactly the step's share of their
    // own requests. (With new pods, two replicas could only split traffic by halves.)
    Specs.rollout(spec).setStrategy("inPlace");
    out.println("[demo] ModelDeployment " + iris.namespace + "/" + MODEL + ": 2 replicas; a new version moves into"
        + " the running pods (strategy inPlace) through steps 10 % -> 50 % -> 100 % with 10 s pauses; gate: 5xx share"
        + " at most 5 % over each 2 s window of at least 10 requests");

    long[] failuresAt = new long[4];
    double[] windows = new double[4];
    Traffic traffic = null;
    RolloutWatch watch = new RolloutWatch(cluster, iris, out);
    try {
      watch.nextIs("v1");
      cluster.client().resource(spec).create();
      if (!until("v1 stable with 2 ready pods", STABLE_WITHIN, () -> iris.phase() == Phase.Stable
          && iris.stable().getReadyReplicas() != null && iris.stable().getReadyReplicas() == 2)) {
        return finish(outDir, watch, null, failuresAt, windows);
      }
      kubectlTable = cluster.kubectl("get", "mdep", "-n", iris.namespace);
      out.print("[demo] kubectl get mdep -n " + iris.namespace + "\n" + kubectlTable);
      String clusterIp = iris.clusterIp();
      watch.say("clients: %d requests/s to http://%s/v2/models/%s/infer (the Service %s)".formatted(
          REQUESTS_PER_SECOND, clusterIp, MODEL, MODEL));
      traffic = new Traffic(clusterIp, MODEL, Traffic.IRIS_BODY, REQUESTS_PER_SECOND, 16);
      Traffic clients = traffic;
      String v1Revision = iris.stable().getRevision();
      podsAtStart = pods();
      if (!until("clients answered by v1", Duration.ofMinutes(1), () -> clients.answered(v1Revision) > 20)) {
        return finish(outDir, watch, traffic, failuresAt, windows);
      }

      failuresAt[1] = traffic.failures();
      windows[1] = watch.now();
      watch.nextIs("v2");
      watch.say("v2: kubectl edit: source " + v1 + " -> " + v2);
      iris.newSource(v2);
      if (!until("v2 promoted", ROLLOUT_WITHIN, () -> iris.phase() == Phase.Stable
          && !v1Revision.equals(iris.stable().getRevision()) && lastOutcome() == Outcome.Promoted)) {
        return finish(outDir, watch, traffic, failuresAt, windows);
      }
      failuresAt[2] = traffic.failures();
      windows[2] = watch.now();
      if (failuresAt[2] > failuresAt[1]) {
        problems.add("clients saw %d failures while the good v2 rolled out: %s".formatted(
            failuresAt[2] - failuresAt[1], traffic.failureSamples()));
      }
      String v2Revision = iris.stable().getRevision();
      if (!v1Revision.equals(iris.stable().getHost())) {
        problems.add("v2 was promoted, but not in v1's pods: its host is " + iris.stable().getHost());
      }
      if (!until("clients answered by v2", Duration.ofSeconds(30), () -> clients.answered(v2Revision) > 20)) {
        return finish(outDir, watch, traffic, failuresAt, windows);
      }

      watch.nextIs("v3");
      watch.say("v3: kubectl edit: source " + v2 + " -> " + v3);
      iris.newSource(v3);
      if (!until("v3 rolled back by its gate", ROLLOUT_WITHIN, () -> iris.phase() == Phase.Degraded
          && lastOutcome() == Outcome.RolledBack)) {
        return finish(outDir, watch, traffic, failuresAt, windows);
      }
      String reason = iris.status().getHistory().get(0).getReason();
      if (reason == null || !reason.startsWith("GateFailed") || !reason.contains("errorRate")) {
        problems.add("v3 was rolled back, but not by its errorRate gate: " + reason);
      }
      if (!v2Revision.equals(iris.stable().getRevision())) {
        problems.add("v2 is no longer the stable revision after v3's rollback: " + iris.stable().getRevision());
      }
      long answeredBefore = traffic.answered(v2Revision);
      until("v2 serving on after the rollback", Duration.ofSeconds(30),
          () -> clients.answered(v2Revision) > answeredBefore + 20);
      failuresAt[3] = traffic.failures();
      windows[3] = watch.now();
      Map<String, String> podsAtEnd = pods();
      if (!podsAtEnd.equals(podsAtStart)) {
        problems.add("the pods changed, though every version moved in place: " + podsAtStart + " -> " + podsAtEnd);
      }
      if (!iris.revisionDeployments().equals(List.of(MODEL + "-" + v1Revision))) {
        problems.add("Deployments other than v1's pods were made: " + iris.revisionDeployments());
      }
      watch.say("the same %d pods served v1, v2 and v3, none restarted".formatted(podsAtEnd.size()));
      kubectlTable = cluster.kubectl("get", "mdep", "-n", iris.namespace);
      out.print("[demo] kubectl get mdep -n " + iris.namespace + "\n" + kubectlTable);
      return finish(outDir, watch, traffic, failuresAt, windows);
    } finally {
      if (traffic != null) {
        traffic.close();
      }
      watch.close();
    }
  }

  /** Pod name → uid and the model server's restarts: what must not change when versions move in place. */
  private Map<String, String> pods() {
    Map<String, String> pods = new java.util.TreeMap<>();
    cluster.client().pods().inNamespace(iris.namespace).withLabel("modelship.io/deployment", MODEL).list().getItems()
        .forEach(pod -> pods.put(pod.getMetadata().getName(), pod.getMetadata().getUid() + " restarts="
            + (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null ? 0
                : pod.getStatus().getContainerStatuses().stream()
                    .mapToInt(c -> c.getRestartCount() == null ? 0 : c.getRestartCount()).sum())));
    return pods;
  }

  private Outcome lastOutcome() {
    List<HistoryEntry> history = iris.status().getHistory();
    return history == null || history.isEmpty() ? null : history.get(0).getOutcome();
  }

  private interface Check {
    boolean holds();
  }

  /** Waits for a moment of the story; when it does not come in time, that is a problem of the story, not a throw. */
  private boolean until(String what, Duration within, Check check) {
    try {
      await(what).atMost(within).pollInterval(Duration.ofMillis(250)).until(() -> {
        try {
          return check.holds();
        } catch (AssertionError | RuntimeException e) {
          return false;
        }
      });
      return true;
    } catch (ConditionTimeoutException e) {
      String phase;
      try {
        phase = String.valueOf(iris.phase());
      } catch (AssertionError | RuntimeException unknown) {
        phase = "unknown";
      }
      problems.add("%s did not happen within %d s (phase %s)".formatted(what, within.toSeconds(), phase));
      out.println("[demo] NOT AS EXPECTED: " + problems.get(problems.size() - 1));
      return false;
    }
  }

  private Result finish(Path outDir, RolloutWatch watch, Traffic traffic, long[] failuresAt, double[] windows)
      throws IOException, InterruptedException {
    if (traffic != null) {
      traffic.close();
    }
    watch.close();
    Map<String, Long> answers = traffic == null ? Map.of() : traffic.answers();
    List<List<String>> rows = new ArrayList<>();
    long totalFailures = traffic == null ? 0 : traffic.failures();
    for (RolloutWatch.Story story : watch.stories.values()) {
      List<String> row = new ArrayList<>();
      row.add(story.version);
      row.add(story.revision);
      row.add(story.outcome == null ? (story.startedAt == null ? "first stable" : "not finished")
          : story.outcome + (story.reason == null ? "" : ": " + shortened(story.reason)));
      row.add(steps(story));
      row.add(String.valueOf(answers.getOrDefault("200 " + story.revision, 0L)));
      row.add(String.format(Locale.ROOT, "%.0f", story.serverErrors));
      int act = rows.size() + 1;
      row.add(act < failuresAt.length && windows[act] > 0 ? String.valueOf(failuresAt[act] - failuresAt[act - 1]) : "-");
      rows.add(row);
    }
    Files.createDirectories(outDir);
    List<String> versions = new ArrayList<>(watch.stories.keySet());
    String title = "Modelship: a rollout of " + MODEL + " on a one-node Kubernetes";
    String svg = RolloutPicture.svg(title, watch.samples, watch.marks, versions);
    Path picture = outDir.resolve("rollout.svg");
    Files.writeString(picture, svg);
    Path page = outDir.resolve("rollout.html");
    Files.writeString(page, RolloutPicture.html(title, svg, HEADER, rows, watch.timeline));
    Files.writeString(outDir.resolve("timeline.txt"), String.join("\n", watch.timeline) + "\n");
    String table = markdown(rows);
    Files.writeString(outDir.resolve("summary.md"), table);
    out.println();
    out.print(table);
    out.println("\nclients: " + answers + " (" + totalFailures + " not answered with a 200 in all)");
    List<String> reasons = List.of();
    List<String> warnings = List.of();
    try {
      reasons = iris.reasons();
      warnings = iris.events().stream().filter(e -> "Warning".equals(e.getType())).map(e -> e.getReason()).toList();
    } catch (RuntimeException e) {
      problems.add("the Events could not be read: " + e.getMessage());
    }
    return new Result(List.copyOf(problems), page, picture, rows, answers, List.copyOf(watch.timeline), reasons,
        warnings, kubectlTable);
  }

  /** The reason as the table shows it: its start (the timeline has it whole). */
  static String shortened(String reason) {
    return reason.length() <= 100 ? reason : reason.substring(0, 99) + "…";
  }

  private static String steps(RolloutWatch.Story story) {
    if (story.stepReachedAt.isEmpty()) {
      return "-";
    }
    List<String> parts = new ArrayList<>();
    List<Map.Entry<Integer, Double>> reached = new ArrayList<>(story.stepReachedAt.entrySet());
    for (int i = 0; i < reached.size(); i++) {
      double from = reached.get(i).getValue();
      Double to = i + 1 < reached.size() ? reached.get(i + 1).getValue() : story.endedAt;
      parts.add("%s %%: %s".formatted(story.stepWeight.get(reached.get(i).getKey()),
          to == null ? "..." : String.format(Locale.ROOT, "%.0f s", to - from)));
    }
    if (story.startedAt != null) {
      parts.add(0, String.format(Locale.ROOT, "start: %.0f s", reached.get(0).getValue() - story.startedAt));
    }
    return String.join(", ", parts);
  }

  static String markdown(List<List<String>> rows) {
    StringBuilder table = new StringBuilder("| " + String.join(" | ", HEADER) + " |\n|");
    HEADER.forEach(h -> table.append(" --- |"));
    table.append('\n');
    rows.forEach(row -> table.append("| ").append(String.join(" | ", row)).append(" |\n"));
    return table.toString();
  }
}
