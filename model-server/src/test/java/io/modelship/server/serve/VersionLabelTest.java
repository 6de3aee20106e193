package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The version a server calls its model comes from the artifact fetch recorded, and is never the word "null". */
class VersionLabelTest {
  @TempDir Path modelDir;

  private void recordedVersion(String json) throws Exception {
    OnnxModels.writeMlp(modelDir, Mlp.small());
    Files.createDirectories(modelDir.resolve(".modelship"));
    Files.writeString(modelDir.resolve(".modelship/artifact.json"), json);
  }

  @Test
  void anArtifactWithoutARegistryVersionIsServedAsUnversioned() throws Exception {
    // What fetch records for S3 and HTTP sources.
    recordedVersion("{\"source\":\"s3://models/iris/\",\"modelVersion\":null,\"sha256\":\"" + "a".repeat(64) + "\"}");
    String body = V2Bodies.fp32(Mlp.INPUT, new float[][] {{1, 2, 3, 4}}).toString();

    try (RunningServer running = RunningServer.startReady(TestServeOptions.defaults(modelDir, 0))) {
      HttpResponse<String> answer = running.post("/v2/models/model/infer", body);

      assertThat(RunningServer.json(answer).path("model_version").asText()).isEqualTo("unversioned");
      assertThat(running.post("/v2/models/model/versions/unversioned/infer", body).statusCode()).isEqualTo(200);
      assertThat(running.post("/v2/models/model/versions/null/infer", body).statusCode()).isEqualTo(404);
      assertThat(RunningServer.json(running.get("/v2/models/model")).path("versions").toString())
          .isEqualTo("[\"unversioned\"]");
      assertThat(running.metrics()).contains("version=\"unversioned\"").doesNotContain("version=\"null\"");
    }
  }

  @Test
  void withoutARegistryVersionTheRevisionTheOperatorPassesIsServed() throws Exception {
    recordedVersion("{\"source\":\"s3://models/iris/\",\"modelVersion\":null}");

    try (RunningServer running = RunningServer.startReady(
        TestServeOptions.defaults(modelDir, 0).withDefaultModelVersion("5d3a9c0e1f"))) {
      assertThat(RunningServer.json(running.get("/v2/models/model")).path("versions").toString())
          .isEqualTo("[\"5d3a9c0e1f\"]");
    }
  }

  @Test
  void aRegistryVersionIsServedAsIs() throws Exception {
    recordedVersion("{\"source\":\"mlflow://iris\",\"modelVersion\":\"7\"}");

    try (RunningServer running = RunningServer.startReady(
        TestServeOptions.defaults(modelDir, 0).withDefaultModelVersion("5d3a9c0e1f"))) {
      assertThat(RunningServer.json(running.get("/v2/models/model")).path("versions").toString())
          .isEqualTo("[\"7\"]");
    }
  }

  @Test
  void aMissingApiKeyFileIsNamedWithWhatIsWrongWithIt() throws Exception {
    OnnxModels.writeMlp(modelDir, Mlp.small());
    Path missing = modelDir.resolve("no-such-key");

    assertThatThrownBy(() -> ModelServer.start(TestServeOptions.defaults(modelDir, 0).withApiKeyFile(missing),
        ServeHooks.NONE))
        .hasMessage("API key file " + missing + " does not exist (check --api-key-file and the mounted Secret)");
    assertThatThrownBy(() -> ModelServer.start(TestServeOptions.defaults(modelDir, 0).withApiKeyFile(modelDir),
        ServeHooks.NONE))
        .hasMessage("API key file " + modelDir + " is a directory, not a file");
  }
}
