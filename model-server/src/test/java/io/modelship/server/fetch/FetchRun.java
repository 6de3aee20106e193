package io.modelship.server.fetch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One run of {@code model-server fetch} as the init container would make it, with the model directory, the
 * credentials directory and the termination log in a test's temporary directory. Records the exit code, the log
 * and the termination message for assertions.
 */
final class FetchRun {

  final Path modelDir;
  final Path credentialsDir;
  final Path terminationLog;
  private final List<String> args = new ArrayList<>();
  private final Map<String, String> env = new HashMap<>();

  int exitCode = -1;
  String log = "";

  FetchRun(Path tmp) {
    this.modelDir = tmp.resolve("models");
    this.credentialsDir = tmp.resolve("source-credentials");
    this.terminationLog = tmp.resolve("termination-log");
    args.addAll(
        List.of(
            "--model-dir", modelDir.toString(),
            "--credentials-dir", credentialsDir.toString(),
            "--retry-base-delay-ms", "10",
            "--progress-interval-ms", "200"));
    env.put("MODELSHIP_TERMINATION_LOG", terminationLog.toString());
  }

  FetchRun arg(String flag, String value) {
    args.add(flag);
    args.add(value);
    return this;
  }

  FetchRun env(String variable, String value) {
    env.put(variable, value);
    return this;
  }

  /** Writes one key of the mounted credentials secret, with the trailing newline `echo` leaves. */
  FetchRun credential(String key, String value) throws IOException {
    Files.createDirectories(credentialsDir);
    Files.writeString(credentialsDir.resolve(key), value + "\n", StandardCharsets.UTF_8);
    return this;
  }

  FetchRun run() {
    try (LogCapture capture = new LogCapture()) {
      exitCode = FetchCommand.run(args.toArray(String[]::new), env);
      log = capture.text();
    }
    return this;
  }

  String terminationMessage() throws IOException {
    return Files.readString(terminationLog, StandardCharsets.UTF_8);
  }

  String artifactJson() throws IOException {
    return Files.readString(modelDir.resolve(".modelship/artifact.json"), StandardCharsets.UTF_8);
  }

  FetchResult result() throws IOException {
    return FetchResult.fromJson(artifactJson());
  }

  /** The one-line error of a failed run, as the operator reads it from the termination message. */
  String error() throws IOException {
    return new com.fasterxml.jackson.databind.ObjectMapper().readTree(terminationMessage()).path("error").asText();
  }

  @Override
  public String toString() {
    return "fetch " + args + " -> exit " + exitCode + "\n" + log;
  }
}
