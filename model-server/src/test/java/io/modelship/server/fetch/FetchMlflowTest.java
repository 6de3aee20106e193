package io.modelship.server.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelship.server.testing.MlflowServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fetch against a real MLflow tracking server: model versions registered over REST from a run whose artifacts
 * went through the server's artifact proxy, resolved by number and by alias, downloaded through the proxy.
 * One server for the class, since starting it costs seconds.
 */
class FetchMlflowTest {

  private static final String MODEL = "fraud-detector";
  private static final Map<String, byte[]> DIRECTORY_ARTIFACT = new LinkedHashMap<>();
  private static final byte[] SINGLE_FILE = Artifacts.randomBytes(70_000, 7);

  @TempDir static Path serverHome;
  private static MlflowServer mlflow;
  private static String directoryUri;

  @TempDir Path tmp;

  @BeforeAll
  static void startMlflow() throws Exception {
    String reason = MlflowServer.unavailableReason().orElse(null);
    if (reason != null) {
      System.out.println("FetchMlflowTest skipped: " + reason);
      Assumptions.abort(reason);
    }
    Instant begin = Instant.now();
    mlflow = MlflowServer.start(serverHome);
    System.out.println("FetchMlflowTest: MLflow " + MlflowServer.VERSION + " venv + server up in "
        + Duration.between(begin, Instant.now()).toMillis() + " ms");

    // 2.5 MiB model file: three 1 MiB ranges through the artifact proxy with --part-size-mib 1.
    DIRECTORY_ARTIFACT.put("model.onnx", Artifacts.randomBytes(2_621_440 + 17, 3));
    DIRECTORY_ARTIFACT.put("MLmodel", "flavors:\n  onnx:\n    onnx_version: 1.17.0\n".getBytes(StandardCharsets.UTF_8));
    DIRECTORY_ARTIFACT.put("metadata/requirements.txt", "onnx==1.17.0\n".getBytes(StandardCharsets.UTF_8));
    // Empty files happen (an empty conda.yaml); they cannot answer a range probe and must still land.
    DIRECTORY_ARTIFACT.put("metadata/python_env.yaml", new byte[0]);

    mlflow.post("registered-models/create", Map.of("name", MODEL));
    String experiment = mlflow.post("experiments/create", Map.of("name", "fetch-test")).path("experiment_id").asText();
    JsonNode run = mlflow.post("runs/create", Map.of("experiment_id", experiment)).path("run").path("info");
    String runId = run.path("run_id").asText();
    String artifactUri = run.path("artifact_uri").asText();
    assertThat(artifactUri).startsWith("mlflow-artifacts:/");
    String artifactPath = artifactUri.substring("mlflow-artifacts:/".length());
    for (Map.Entry<String, byte[]> file : DIRECTORY_ARTIFACT.entrySet()) {
      mlflow.upload(artifactPath + "/model/" + file.getKey(), file.getValue());
    }
    mlflow.upload(artifactPath + "/single/model.onnx", SINGLE_FILE);
    directoryUri = artifactUri + "/model";

    createVersion(directoryUri, runId); // 1
    createVersion(artifactUri + "/single/model.onnx", runId); // 2
    createVersion(directoryUri, runId); // 3, registration marked failed below
    mlflow.post("registered-models/alias", Map.of("name", MODEL, "alias", "champion", "version", "1"));
    mlflow.failRegistration(MODEL, 3, "artifact copy to the registry failed");
  }

  private static void createVersion(String source, String runId) throws Exception {
    JsonNode version =
        mlflow.post("model-versions/create", Map.of("name", MODEL, "source", source, "run_id", runId));
    assertThat(version.path("model_version").path("status").asText()).isEqualTo("READY");
  }

  @AfterAll
  static void stopMlflow() {
    if (mlflow != null) {
      mlflow.close();
    }
  }

  private FetchRun fetch(String trackingUri) {
    return new FetchRun(tmp)
        .arg("--source", "mlflow://" + MODEL)
        .arg("--mlflow-tracking-uri", trackingUri)
        .arg("--part-size-mib", "1");
  }

  @Test
  void versionByNumberIsDownloadedThroughTheArtifactProxy() throws Exception {
    FetchRun run = fetch(mlflow.uri).arg("--mlflow-version", "1").run();

    assertThat(run.exitCode).as(run.toString()).isZero();
    Map<String, byte[]> fetched = Artifacts.readTree(run.modelDir);
    fetched.remove(".modelship/artifact.json");
    assertThat(fetched.keySet()).containsExactlyInAnyOrderElementsOf(DIRECTORY_ARTIFACT.keySet());
    DIRECTORY_ARTIFACT.forEach((name, bytes) -> assertThat(fetched.get(name)).as(name).isEqualTo(bytes));
    FetchResult result = run.result();
    assertThat(result.source()).isEqualTo("mlflow://" + MODEL);
    assertThat(result.resolvedUri()).isEqualTo(directoryUri);
    assertThat(result.modelVersion()).isEqualTo("1");
    assertThat(result.sha256()).isEqualTo(Artifacts.manifestDigest(DIRECTORY_ARTIFACT));
    assertThat(result.files()).isEqualTo(4);
    String shell = Artifacts.shellDigest(run.modelDir);
    if (shell != null) {
      assertThat(result.sha256()).isEqualTo(shell);
    }
    // model.onnx in three ranges, the two small files whole, nothing to download for the empty one.
    assertThat(run.log).contains("4 file(s) in 5 part(s)").contains("model.onnx part 3/3 done");
    assertThat(run.terminationMessage()).isEqualTo(run.artifactJson().strip());
  }

  @Test
  void aliasResolvesToItsVersion() throws Exception {
    FetchRun run = fetch(mlflow.uri).arg("--mlflow-alias", "champion").run();

    assertThat(run.exitCode).as(run.toString()).isZero();
    assertThat(run.result().modelVersion()).isEqualTo("1");
    assertThat(run.result().sha256()).isEqualTo(Artifacts.manifestDigest(DIRECTORY_ARTIFACT));
  }

  @Test
  void versionWhoseSourceIsOneFileLandsAsThatFile() throws Exception {
    FetchRun run = fetch(mlflow.uri).arg("--mlflow-version", "2").arg("--sha256", Artifacts.sha256(SINGLE_FILE)).run();

    assertThat(run.exitCode).as(run.toString()).isZero();
    assertThat(run.modelDir.resolve("model.onnx")).hasBinaryContent(SINGLE_FILE);
    assertThat(run.result().files()).isEqualTo(1);
    assertThat(run.result().modelVersion()).isEqualTo("2");
  }

  @Test
  void versionThatIsNotReadyIsRefusedWithItsStatus() throws Exception {
    FetchRun run = fetch(mlflow.uri).arg("--mlflow-version", "3").run();

    assertThat(run.exitCode).as(run.toString()).isEqualTo(3);
    assertThat(run.error())
        .contains("'" + MODEL + "'")
        .contains("version 3 is FAILED_REGISTRATION, not READY")
        .contains("artifact copy to the registry failed");
    assertThat(run.modelDir).doesNotExist();
  }

  @Test
  void missingAliasIsAPermanentFailureNamingModelAndAlias() throws Exception {
    FetchRun run = fetch(mlflow.uri).arg("--mlflow-alias", "challenger").run();

    assertThat(run.exitCode).as(run.toString()).isEqualTo(3);
    assertThat(run.error()).contains("MLflow model '" + MODEL + "' has no alias 'challenger'");
  }

  @Test
  void missingModelAndMissingVersionAreNamed() throws Exception {
    FetchRun noModel =
        new FetchRun(tmp)
            .arg("--source", "mlflow://no-such-model")
            .arg("--mlflow-tracking-uri", mlflow.uri)
            .arg("--mlflow-version", "1")
            .run();
    assertThat(noModel.exitCode).as(noModel.toString()).isEqualTo(3);
    assertThat(noModel.error()).contains("MLflow registered model 'no-such-model' not found");

    FetchRun noVersion = fetch(mlflow.uri).arg("--mlflow-version", "42").run();
    assertThat(noVersion.exitCode).as(noVersion.toString()).isEqualTo(3);
    assertThat(noVersion.error()).contains("MLflow model '" + MODEL + "' has no version 42");
  }

  @Test
  void bearerTokenFromTheCredentialsDirReachesEveryCallAndIsNeverShown() throws Exception {
    String token = "mlflow-token-never-logged-7c6b5a49";
    try (AuthProxy proxy = new AuthProxy(mlflow.uri, "Bearer " + token)) {
      FetchRun run =
          fetch(proxy.uri).arg("--mlflow-alias", "champion").credential("MLFLOW_TRACKING_TOKEN", token).run();

      assertThat(run.exitCode).as(run.toString()).isZero();
      assertThat(run.result().sha256()).isEqualTo(Artifacts.manifestDigest(DIRECTORY_ARTIFACT));
      assertThat(proxy.authorizedPaths)
          .anyMatch(path -> path.endsWith("/registered-models/alias"))
          .anyMatch(path -> path.endsWith("/model-versions/get-download-uri"))
          .anyMatch(path -> path.startsWith("/api/2.0/mlflow-artifacts/artifacts/"));
      assertThat(run.log).doesNotContain(token);
      assertThat(run.artifactJson()).doesNotContain(token);

      FetchRun wrong =
          new FetchRun(tmp.resolve("wrong"))
              .arg("--source", "mlflow://" + MODEL)
              .arg("--mlflow-tracking-uri", proxy.uri)
              .arg("--mlflow-alias", "champion")
              .credential("MLFLOW_TRACKING_TOKEN", "stale-token-also-secret-1234")
              .run();
      assertThat(wrong.exitCode).as(wrong.toString()).isEqualTo(3);
      assertThat(wrong.error())
          .contains("access denied (HTTP 401)")
          .contains("MLFLOW_TRACKING_TOKEN in the credentials secret mounted at " + wrong.credentialsDir);
      assertThat(wrong.log + wrong.terminationMessage()).doesNotContain("stale-token-also-secret-1234");
    }
  }

  @Test
  void basicAuthFromTheCredentialsDirIsUsedAndNeverShown() throws Exception {
    String password = "pa55word-never-logged-0a9b8c";
    String header =
        "Basic " + Base64.getEncoder().encodeToString(("ci-bot:" + password).getBytes(StandardCharsets.UTF_8));
    try (AuthProxy proxy = new AuthProxy(mlflow.uri, header)) {
      FetchRun run =
          fetch(proxy.uri)
              .arg("--mlflow-version", "2")
              .credential("MLFLOW_TRACKING_USERNAME", "ci-bot")
              .credential("MLFLOW_TRACKING_PASSWORD", password)
              .run();

      assertThat(run.exitCode).as(run.toString()).isZero();
      assertThat(run.modelDir.resolve("model.onnx")).hasBinaryContent(SINGLE_FILE);
      for (String secret : List.of(password, header.substring("Basic ".length()))) {
        assertThat(run.log).doesNotContain(secret);
        assertThat(run.terminationMessage()).doesNotContain(secret);
      }
    }
  }
}
