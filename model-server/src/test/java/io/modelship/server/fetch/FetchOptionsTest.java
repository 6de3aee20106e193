package io.modelship.server.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The fetch command line as docs/pod-contract.md defines it. */
class FetchOptionsTest {

  /** Every flag and variable of the contract's fetch table. */
  private static final Map<String, String> CONTRACT =
      Map.of(
          "--source", "MODELSHIP_SOURCE",
          "--s3-endpoint", "MODELSHIP_S3_ENDPOINT",
          "--s3-region", "MODELSHIP_S3_REGION",
          "--mlflow-tracking-uri", "MODELSHIP_MLFLOW_TRACKING_URI",
          "--mlflow-alias", "MODELSHIP_MLFLOW_ALIAS",
          "--mlflow-version", "MODELSHIP_MLFLOW_VERSION",
          "--sha256", "MODELSHIP_SHA256",
          "--credentials-dir", "MODELSHIP_CREDENTIALS_DIR",
          "--model-dir", "MODELSHIP_MODEL_DIR");

  @Test
  void helpPrintsEveryOptionWithItsVariableAndExitsZero() {
    PrintStream original = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      exit = FetchCommand.run(new String[] {"--help"}, Map.of());
    } finally {
      System.setOut(original);
    }
    String help = captured.toString(StandardCharsets.UTF_8);
    assertThat(exit).isZero();
    CONTRACT.forEach((flag, variable) -> assertThat(help).contains(flag).contains(variable));
    FetchOptions.OPTIONS.forEach(option -> assertThat(help).contains(option.flag()).contains(option.variable()));
    assertThat(help).contains("/etc/modelship/source-credentials").contains("/models").contains("Exit codes");
  }

  @Test
  void variablesApplyAndAFlagWinsOverItsVariable() {
    FetchOptions options =
        FetchOptions.parse(
            new String[] {"--model-dir", "/flag/models", "--sha256=" + "AB".repeat(32)},
            Map.of(
                "MODELSHIP_SOURCE", "s3://bucket/model.onnx",
                "MODELSHIP_MODEL_DIR", "/env/models",
                "MODELSHIP_S3_ENDPOINT", "http://minio:9000"));

    assertThat(options.source()).isEqualTo("s3://bucket/model.onnx");
    assertThat(options.modelDir()).isEqualTo(Path.of("/flag/models"));
    assertThat(options.s3Endpoint()).isEqualTo("http://minio:9000");
    assertThat(options.sha256()).isEqualTo("ab".repeat(32));
    assertThat(options.credentialsDir()).isEqualTo(Path.of("/etc/modelship/source-credentials"));
    assertThat(options.terminationLog()).isEqualTo(Path.of("/dev/termination-log"));
    assertThat(options.partSize()).isEqualTo(8L * 1024 * 1024);
  }

  @Test
  void mlflowModelNamesArePercentDecoded() {
    FetchOptions options =
        FetchOptions.parse(
            new String[] {
              "--source", "mlflow://fraud%20detector+v2", "--mlflow-tracking-uri", "http://mlflow:5000",
              "--mlflow-version", "3"
            },
            Map.of());
    assertThat(options.isMlflow()).isTrue();
    assertThat(options.mlflowModelName()).isEqualTo("fraud detector+v2");
  }

  @Test
  void usageErrorsExitWithTwoAndSayWhatIsWrong() {
    List<List<String>> wrong =
        List.of(
            List.of(),
            List.of("--source", "ftp://host/model.onnx"),
            List.of("--source", "s3://b/k", "--bogus", "x"),
            List.of("--source", "s3://b/k", "--sha256", "not-hex"),
            List.of("--source", "s3://b/k", "--mlflow-alias", "champion"),
            List.of("--source", "mlflow://m", "--mlflow-version", "1"),
            List.of("--source", "mlflow://m", "--mlflow-tracking-uri", "http://x", "--mlflow-version", "1",
                "--mlflow-alias", "a"),
            List.of("--source", "mlflow://m", "--mlflow-tracking-uri", "http://x", "--mlflow-version", "latest"),
            List.of("--source", "s3://b/k", "--parallelism", "0"),
            List.of("--source"));
    for (List<String> args : wrong) {
      assertThat(FetchCommand.run(args.toArray(String[]::new), Map.of("MODELSHIP_TERMINATION_LOG", "/nonexistent/x")))
          .as(String.join(" ", args))
          .isEqualTo(2);
    }
    assertThatThrownBy(() -> FetchOptions.parse(new String[] {"--source", "s3://b/k", "--bogus", "x"}, Map.of()))
        .hasMessageContaining("unknown option --bogus");
    assertThatThrownBy(() -> FetchOptions.parse(new String[] {"--source", "mlflow://m", "--mlflow-version", "1"}, Map.of()))
        .hasMessageContaining("--mlflow-tracking-uri");
  }

  @Test
  void aUsageErrorStillLeavesTheContractsFailureLineInTheTerminationMessage(@org.junit.jupiter.api.io.TempDir Path tmp)
      throws Exception {
    Path fromVariable = tmp.resolve("from-variable");
    int exit = FetchCommand.run(new String[] {"--source", "ftp://host/model.onnx"},
        Map.of("MODELSHIP_TERMINATION_LOG", fromVariable.toString()));

    assertThat(exit).isEqualTo(2);
    assertThat(java.nio.file.Files.readString(fromVariable))
        .startsWith("{\"error\":\"--source must start with s3://")
        .endsWith(",\"exitCode\":2}");

    Path fromFlag = tmp.resolve("from-flag");
    FetchCommand.run(new String[] {"--termination-log", fromFlag.toString(), "--bogus", "x"}, Map.of());
    assertThat(java.nio.file.Files.readString(fromFlag)).contains("unknown option --bogus", "\"exitCode\":2");
  }
}
