package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The README's run command, played in the end-to-end tier: the story a user lives, on the real cluster with real
 * traffic through the client Service. v1 becomes stable; v2 moves into the two running pods and goes 10 % -> 50 %
 * -> 100 % of their requests on passing gates with no client error; a v3 that fails every request is rolled back
 * there by its gate while v2 keeps serving; no pod is added, replaced or restarted; and the timeline, the table and
 * the picture say so. (RolloutE2eTest plays a rollout with new pods.)
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class DemoE2eTest {
  private static final String NAMESPACE = "e2e-demo";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);

  @Test
  void v1BecomesStableV2IsPromotedStepByStepAndABrokenV3IsRolledBack() throws Exception {
    Path out = Path.of("target", "demo");
    DemoStory.Result result = new DemoStory(ns.cluster(), ns.store(), NAMESPACE, System.out).play(out);

    assertThat(result.problems()).as("what did not go as the story says").isEmpty();
    assertThat(result.kubectlTable().lines().findFirst().orElseThrow().split("\\s+"))
        .containsExactly("NAME", "PHASE", "STABLE", "CANARY", "WEIGHT", "READY", "REPLICAS", "AGE");
    assertThat(result.reasons()).contains("RolloutStarted", "StepAdvanced", "Promoting", "Promoted");
    // A first failing window that is already decisive (every v3 request fails) rolls back at once, with no
    // GateFailed Event before the RollingBack one; a thinner first window says GateFailed first. Either is right.
    assertThat(result.warnings()).contains("RollingBack");
    assertThat(result.answers()).as("v3's failures reached clients before its rollback").containsKey("500");

    // The timeline a person follows: every step of v2 with its gate, and both endings with their reasons.
    String timeline = String.join("\n", result.timeline());
    // (The 100 % step has no pause: it may pass between two reads of status, so it is not asked for here.)
    // The observed weight has its own line: status writes it in its own pass, a moment after the step on a busy node.
    assertThat(timeline).contains("phase Stable (stable: v1, 2/2 ready)", "v2: step 1/3 reached: 10 % asked",
        "v2: 10 % of requests observed", "v2: step 2/3 reached: 50 % asked", "v2: 50 % of requests observed",
        "v2: gate errorRate", "v2: Promoted",
        "v3: RolledBack (GateFailed", "the same 2 pods served v1, v2 and v3, none restarted");
    // The table: one row per version, with requests answered by each of v1 and v2, and no client error for v2.
    assertThat(result.rows()).extracting(row -> row.get(0)).containsExactly("v1", "v2", "v3");
    assertThat(result.rows().get(1).get(2)).startsWith("Promoted");
    assertThat(result.rows().get(1).get(6)).isEqualTo("0");
    assertThat(result.rows().get(2).get(2)).startsWith("RolledBack: GateFailed");
    assertThat(Long.parseLong(result.rows().get(0).get(4))).isPositive();
    assertThat(Long.parseLong(result.rows().get(1).get(4))).isPositive();
    // The picture is drawn from the pods' metrics: a line for each version, and the endings marked.
    String svg = Files.readString(result.picture());
    assertThat(svg).startsWith("<svg").contains("v2 Promoted", "v3 RolledBack", ">v1<", ">v2<", ">v3<");
    assertThat(svg.split("<polyline").length).as("lines drawn").isGreaterThan(6);
    assertThat(Files.readString(result.page())).contains("<svg", "<table", "v3: RolledBack");
  }

  /** The script itself, as the README gives it: with --help it builds the classpath, starts the JVM and explains. */
  @Test
  void theRunCommandExplainsItself() throws Exception {
    Process help = new ProcessBuilder(ns.cluster().root.resolve("e2e/demo.sh").toString(), "--help")
        .directory(ns.cluster().root.toFile()).redirectErrorStream(true).start();
    String output = new String(help.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(help.waitFor()).as(output).isZero();
    assertThat(output).contains("Usage: e2e/demo.sh [--keep] [--out DIR] [--help]").contains("--keep", "Exit status");
  }
}
