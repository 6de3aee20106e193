package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every command in the README's shell blocks, as written: those a user types against a cluster or a checkout are
 * run here on the real cluster (with only the placeholders filled in: the model directory, a free port); the
 * others are named with the test that runs them. A command added to the README without either fails this test.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class ReadmeCommandsE2eTest {
  /** The README's own namespace: its examples and commands say {@code -n ml}. */
  private static final String NAMESPACE = "ml";

  /** Commands run elsewhere, by their start, with where. */
  static final Map<String, String> RUN_ELSEWHERE = new LinkedHashMap<>();

  static {
    RUN_ELSEWHERE.put("e2e/demo.sh", "DemoE2eTest plays its story on this cluster and runs the script with --help");
    RUN_ELSEWHERE.put("./mvnw -B verify", "CI (.ci/run) runs exactly this; it is what runs this test");
    RUN_ELSEWHERE.put("./mvnw -B -q -pl model-server -am package -DskipTests",
        "the build that runs this test packages the model server the same way (building it again here would rewrite"
            + " jars this JVM has open)");
    RUN_ELSEWHERE.put("./mvnw -B -q install -DskipTests", "e2e/demo.sh builds this way (DemoE2eTest)");
    RUN_ELSEWHERE.put("./mvnw -B -pl model-server,operator jib:build",
        "RealCluster.buildImages, with this cluster's registry in place of registry.example.com");
    RUN_ELSEWHERE.put("helm install modelship helm/modelship-operator",
        "RealCluster.installChart (helm upgrade --install), with this cluster's registry in place of registry.example.com");
  }

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);

  /** The README's commands, one per line, comments and blank lines left out, in the order they appear. */
  static List<String> readmeCommands(Path readme) throws IOException {
    List<String> commands = new ArrayList<>();
    boolean inShell = false;
    for (String line : Files.readAllLines(readme)) {
      if (line.startsWith("```")) {
        inShell = !inShell && line.equals("```sh");
        continue;
      }
      if (inShell) {
        String command = line.replaceAll("\\s{2,}#.*$", "").strip();
        if (!command.isEmpty() && !command.startsWith("#")) {
          commands.add(command);
        }
      }
    }
    return commands;
  }

  @Test
  void everyCommandInTheReadmeWorksAsWritten() throws Exception {
    List<String> commands = readmeCommands(ns.cluster().root.resolve("README.md"));
    assertThat(commands).as("commands in the README").hasSizeGreaterThan(15);
    // What the commands act on, as the README's examples have them.
    ns.cluster().kubectl("apply", "-f", ns.cluster().root.resolve("examples/mlflow-alias.yaml").toString());
    ns.cluster().client().resource(Specs.s3(NAMESPACE, "iris", ns.store(), ns.store().putMlp("iris/1", new Mlp(4, 16, 1, 3, 5)), 1))
        .create();

    Map<String, String> ran = new LinkedHashMap<>();
    Process server = null;
    try {
      for (String command : commands) {
        if (command.endsWith("&& java -jar operator/target/operator.jar")) {
          // Built by the build that runs this test (see the model server's package above); the jar is run here.
          ran.put(command, startAndStopOperator("java -jar operator/target/operator.jar"));
          continue;
        }
        String elsewhere = RUN_ELSEWHERE.entrySet().stream().filter(e -> command.startsWith(e.getKey()))
            .map(Map.Entry::getValue).findFirst().orElse(null);
        if (elsewhere != null) {
          ran.put(command, "elsewhere: " + elsewhere);
          continue;
        }
        if (command.startsWith("model-server/bin/model-server serve")) {
          server = startModelServer(command);
          ran.put(command, "serving");
          continue;
        }
        if (command.startsWith("export ")) {
          ran.put(command, "environment for the commands after it");
          continue;
        }
        ran.put(command, run(command));
      }
    } finally {
      if (server != null) {
        server.destroy();
        if (!server.waitFor(20, TimeUnit.SECONDS)) {
          server.destroyForcibly();
        }
      }
    }
    ran.forEach((command, result) -> RealCluster.progress("README: " + command + "\n    -> "
        + result.lines().limit(3).reduce((a, b) -> a + " | " + b).orElse("")));

    // What each answered, where it says something a user would look for.
    assertThat(answer(ran, "curl -s localhost:8080/v2/models/model/infer")).contains("\"outputs\"");
    assertThat(answer(ran, "curl -s localhost:8080/v2/models/model ")).contains("\"inputs\"", "\"platform\"");
    assertThat(answer(ran, "kubectl get mdep -n ml")).contains("sentiment", "fraud", "iris");
    assertThat(answer(ran, "kubectl modelship status -n ml")).contains("iris", "sentiment");
    assertThat(answer(ran, "kubectl -n ml get mdep sentiment -w")).contains("NAME", "sentiment");
  }

  private static String answer(Map<String, String> ran, String start) {
    return ran.entrySet().stream().filter(e -> (e.getKey() + " ").startsWith(start)).map(Map.Entry::getValue)
        .findFirst().orElseThrow(() -> new AssertionError("no README command starts with " + start));
  }

  /** The README's `model-server serve` with a real model directory and a free port for its placeholders. */
  private Process startModelServer(String command) throws Exception {
    Path dir = Files.createTempDirectory("readme-model");
    OnnxModels.writeMlp(dir, new Mlp(4, 16, 1, 3, 7));
    serverPort = freePort();
    String filled = command.replace("/path/to/dir-with-model.onnx", dir.toString())
        .replace("8080", String.valueOf(serverPort));
    Process process = shell(filled).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    var http = java.net.http.HttpClient.newHttpClient();
    var ready = java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + serverPort + "/v2/health/ready")).build();
    await("the model server started by the README's command is ready").atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(250)).until(() -> {
          assertThat(process.isAlive()).as("model-server is running").isTrue();
          try {
            return http.send(ready, java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
          } catch (IOException e) {
            return false;
          }
        });
    return process;
  }

  /**
   * The README's operator command on this cluster: it starts, says so, and stops on SIGTERM (as Ctrl-C or a pod's
   * end would stop it). It watches a namespace of its own meanwhile, so it does not reconcile beside the chart's.
   */
  private String startAndStopOperator(String command) throws Exception {
    // Its output to a file: a pipe read while the process exits can lose the last lines ("Stream closed").
    Path log = Files.createTempFile("readme-operator", ".log");
    ProcessBuilder builder = shell(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().put("MODELSHIP_WATCH_NAMESPACES", "readme-operator");
    builder.environment().put("MODELSHIP_HEALTH_PORT", String.valueOf(freePort()));
    Process process = builder.start();
    try {
      await("the operator started by the README's command says it started").atMost(Duration.ofMinutes(1))
          .untilAsserted(() -> {
            assertThat(process.isAlive()).as("the operator is running; its output: %s", Files.readString(log)).isTrue();
            assertThat(Files.readString(log)).contains("modelship operator started");
          });
    } finally {
      process.destroy();
    }
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the operator stops on SIGTERM: %s", Files.readString(log))
        .isTrue();
    assertThat(Files.readString(log)).contains("stopped");
    return "started, then stopped on SIGTERM";
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private int serverPort;

  /**
   * Runs one README command in bash from the checkout, kubectl and the plugin on PATH, and returns its output. One
   * that follows (-w) is stopped after a few seconds, as a user would press Ctrl-C; anything else must exit 0.
   */
  private String run(String command) throws Exception {
    String filled = serverPort == 0 ? command : command.replace("localhost:8080", "localhost:" + serverPort);
    boolean follows = filled.matches(".*\\s-w(\\s.*)?$");
    Process process = shell(follows ? "timeout 8 " + filled : filled).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(2, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new AssertionError(command + " did not finish in 2 minutes:\n" + output);
    }
    int exit = process.exitValue();
    assertThat(follows ? exit == 0 || exit == 124 : exit == 0).as("`%s` exited %d:%n%s", command, exit, output).isTrue();
    return output;
  }

  private ProcessBuilder shell(String command) throws IOException {
    ProcessBuilder builder = new ProcessBuilder("bash", "-c", command).directory(ns.cluster().root.toFile());
    builder.environment().put("KUBECONFIG", ns.cluster().kubeconfig());
    builder.environment().put("PATH", ns.cluster().userPath());
    return builder;
  }
}
