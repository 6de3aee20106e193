package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The kubectl plugin (kubectl-plugin/kubectl-modelship) as a user runs it: found by kubectl on the PATH, talking to
 * the real cluster through the current kubeconfig. Each command is checked by what it does to a ModelDeployment
 * mid-rollout: pause and resume hold and release a step, promote skips the steps left, abort rolls a canary back,
 * retry tries a failed revision again; status shows phase, versions, weight, gates and history, and follows with -w.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class KubectlPluginE2eTest {
  private static final String NAMESPACE = "e2e-plugin";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);

  /** What a shell prints for {@code kubectl modelship <args>}; the exit code first. */
  private static List<String> plugin(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(ns.cluster().kubectlBinary(), "modelship"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("PATH", ns.cluster().userPath());
    builder.environment().put("KUBECONFIG", ns.cluster().kubeconfig());
    Process process = builder.start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("kubectl modelship " + String.join(" ", args) + " did not end");
    }
    return List.of(String.valueOf(process.exitValue()), out);
  }

  private static String ok(String... args) throws Exception {
    List<String> result = plugin(args);
    assertThat(result.get(0)).as("exit code of kubectl modelship %s: %s", String.join(" ", args), result.get(1))
        .isEqualTo("0");
    return result.get(1);
  }

  @Test
  void everyCommandDoesWhatItSaysOnARealRollout() throws Exception {
    assertThat(ok("--help")).contains("kubectl modelship status", "promote", "abort", "retry", "pause", "resume");
    assertThat(plugin("bogus").get(0)).isEqualTo("2");
    assertThat(ok("completion", "bash")).contains("complete -F _kubectl_modelship kubectl-modelship");

    String v1 = ns.store().putMlp("plugin/1", new Mlp(4, 16, 1, 3, 51));
    String v2 = ns.store().putMlp("plugin/2", new Mlp(4, 16, 1, 3, 52));
    // A healthy v3 too: aborting is the user's call here, not a gate's.
    String v3 = ns.store().putMlp("plugin/3", new Mlp(4, 16, 1, 3, 53));
    var spec = Specs.errorRateGate(Specs.steps(Specs.s3(NAMESPACE, "iris", ns.store(), v1, 2), 50, "10m", 100, null),
        "2s", 10, 0.05);
    ns.cluster().client().resource(spec).create();
    var iris = new Mdeps(ns.cluster(), NAMESPACE, "iris");
    await("v1 stable").atMost(Duration.ofMinutes(3)).untilAsserted(() -> assertThat(iris.phase()).isEqualTo(Phase.Stable));
    String overview = ok("status", "-n", NAMESPACE);
    RealCluster.progress("kubectl modelship status:\n" + overview);
    assertThat(overview).contains("NAME", "PHASE", "STABLE", "CANARY", "WEIGHT", "iris", "Stable",
        iris.stable().getVersion());

    try (Traffic traffic = new Traffic(iris.clusterIp(), "iris", Traffic.IRIS_BODY, 20, 8)) {
      iris.newSource(v2);
      await("v2 at step 1 of 2").atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
        assertThat(iris.canary().getStepReachedAt()).isNotNull();
        assertThat(iris.canary().getAnalysis()).isNotEmpty();
      });
      ok("pause", "iris", "-n", NAMESPACE);
      await("paused").atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(iris.phase()).isEqualTo(Phase.Paused));
      String details = ok("status", "iris", "-n", NAMESPACE);
      RealCluster.progress("kubectl modelship status iris:\n" + details);
      assertThat(details).contains("Paused", "1/2", "50%", "GATE", "errorRate", "restarts");
      ok("resume", "iris", "-n", NAMESPACE);
      await("resumed").atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(iris.phase()).isEqualTo(Phase.Progressing));

      // The step's pause is 10 minutes: only promote ends it within the test.
      ok("promote", "iris", "-n", NAMESPACE);
      await("promoted by hand").atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
        assertThat(iris.phase()).isEqualTo(Phase.Stable);
        assertThat(iris.status().getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
      });
      assertThat(ok("status", "iris", "-n", NAMESPACE)).contains("History:", "Promoted", "modelship.io/promote");

      iris.newSource(v3);
      await("v3 rolling out").atMost(Duration.ofMinutes(2)).untilAsserted(() -> assertThat(iris.canary()).isNotNull());
      ok("abort", "iris", "-n", NAMESPACE);
      await("aborted").atMost(Duration.ofMinutes(2)).untilAsserted(() -> {
        assertThat(iris.status().getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Aborted));
        assertThat(iris.phase()).isEqualTo(Phase.Degraded);
      });
      ok("retry", "iris", "-n", NAMESPACE);
      await("v3 tried again").atMost(Duration.ofMinutes(2)).untilAsserted(() -> assertThat(iris.canary()).isNotNull());
      ok("abort", "iris", "-n", NAMESPACE);
      await("aborted again").atMost(Duration.ofMinutes(2)).untilAsserted(() -> assertThat(iris.phase()).isEqualTo(Phase.Degraded));
    }

    // -w follows until interrupted: its first screen is there within seconds.
    ProcessBuilder builder = new ProcessBuilder(ns.cluster().kubectlBinary(), "modelship", "status", "-A", "-w")
        .redirectErrorStream(true);
    builder.environment().put("PATH", ns.cluster().userPath());
    builder.environment().put("KUBECONFIG", ns.cluster().kubeconfig());
    Path out = Files.createTempFile("watch", ".txt");
    Process watch = builder.redirectOutput(out.toFile()).start();
    try {
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(Files.readString(out))
          .contains("(Ctrl-C to stop)", NAMESPACE, "iris", "Degraded"));
    } finally {
      watch.destroy();
      watch.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
