package io.modelship.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * When an end-to-end test fails, what a person would look at next: every ModelDeployment with its status, the
 * pods, the Events and the operator's log, written to e2e/target/e2e-diagnostics/ and summarised on the console.
 * The cluster is torn down after the run, so this is the only record.
 */
public final class Diagnostics implements TestExecutionExceptionHandler {
  @Override
  public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
    try {
      dump(context.getRequiredTestClass().getSimpleName() + "-" + context.getRequiredTestMethod().getName());
    } catch (RuntimeException | IOException e) {
      failure.addSuppressed(e);
    }
    throw failure;
  }

  static void dump(String name) throws IOException {
    RealCluster cluster = RealCluster.get();
    Path dir = Files.createDirectories(Path.of("target", "e2e-diagnostics", name));
    write(dir.resolve("modeldeployments.yaml"), () -> cluster.kubectl("get", "mdep", "-A", "-o", "yaml"));
    write(dir.resolve("pods.txt"), () -> cluster.kubectl("get", "pods,deployments,services", "-A", "-o", "wide"));
    write(dir.resolve("events.txt"), () -> cluster.kubectl("get", "events", "-A", "--sort-by=.lastTimestamp"));
    write(dir.resolve("operator.log"), () -> cluster.kubectl("logs", "-n", RealCluster.OPERATOR_NAMESPACE,
        "-l", "app.kubernetes.io/name=modelship-operator", "--tail=400", "--all-containers", "--prefix"));
    String summary = cluster.kubectl("get", "mdep", "-A", "-o", "wide");
    RealCluster.progress("diagnostics in " + dir.toAbsolutePath() + "\n" + summary);
  }

  private interface Text {
    String get();
  }

  private static void write(Path file, Text text) throws IOException {
    try {
      Files.writeString(file, text.get());
    } catch (RuntimeException e) {
      Files.writeString(file, "could not collect: " + e.getMessage());
    }
  }
}
