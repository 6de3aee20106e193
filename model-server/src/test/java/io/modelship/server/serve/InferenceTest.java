package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import io.modelship.server.onnx.OnnxReference;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Served answers of the MLP classifier equal what ONNX Runtime gives directly, on every protocol path. */
class InferenceTest {
  @TempDir static Path modelDir;
  static RunningServer running;
  static OnnxReference reference;
  static final Mlp MLP = Mlp.small();

  @BeforeAll
  static void start() throws Exception {
    Path onnx = OnnxModels.writeMlp(modelDir, MLP);
    reference = new OnnxReference(onnx);
    running = RunningServer.startReady(TestServeOptions.defaults(modelDir, 0).withModel("iris", "3"));
  }

  @AfterAll
  static void stop() throws Exception {
    running.close();
    reference.close();
  }

  @Test
  void v2InferEqualsOnnxRuntimeAndEchoesTheId() throws Exception {
    float[][] rows = OnnxModels.mlpInputs(MLP, 5, 1);
    ObjectNode body = V2Bodies.fp32(Mlp.INPUT, rows).put("id", "req-17");

    HttpResponse<String> response = running.post("/v2/models/iris/infer", body.toString());

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonNode json = RunningServer.json(response);
    assertThat(json.path("id").asText()).isEqualTo("req-17");
    assertThat(json.path("model_name").asText()).isEqualTo("iris");
    assertThat(json.path("model_version").asText()).isEqualTo("3");
    JsonNode output = json.path("outputs").get(0);
    assertThat(output.path("datatype").asText()).isEqualTo("FP32");
    assertThat(output.path("shape").toString()).isEqualTo("[5,3]");
    assertThat(V2Bodies.output(json, Mlp.OUTPUT)).isEqualTo(reference.runFloat(Mlp.INPUT, rows));
  }

  @Test
  void nestedDataAndExplicitVersionPathGiveTheSameAnswer() throws Exception {
    float[][] rows = OnnxModels.mlpInputs(MLP, 2, 2);
    String nested = "{\"inputs\":[{\"name\":\"input\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":"
        + RunningServer.JSON.writeValueAsString(rows) + "}],\"outputs\":[{\"name\":\"probabilities\"}]}";

    HttpResponse<String> response = running.post("/v2/models/iris/versions/3/infer", nested);

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(V2Bodies.output(RunningServer.json(response), Mlp.OUTPUT))
        .isEqualTo(reference.runFloat(Mlp.INPUT, rows));
  }

  @Test
  void predictionsTakeABareNestedArrayAndAnswerWithOne() throws Exception {
    float[][] rows = OnnxModels.mlpInputs(MLP, 3, 3);

    HttpResponse<String> response =
        running.post("/predictions/iris", RunningServer.JSON.writeValueAsString(rows));

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    float[][] answer = RunningServer.JSON.readValue(response.body(), float[][].class);
    assertThat(answer).isEqualTo(reference.runFloat(Mlp.INPUT, rows));
  }

  @Test
  void predictionsAlsoTakeAKserveBody() throws Exception {
    float[][] rows = OnnxModels.mlpInputs(MLP, 1, 4);

    HttpResponse<String> response = running.post("/predictions/iris", V2Bodies.fp32(Mlp.INPUT, rows).toString());

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(RunningServer.JSON.readValue(response.body(), float[][].class))
        .isEqualTo(reference.runFloat(Mlp.INPUT, rows));
  }

  @Test
  void metadataDescribesInputsOutputsVersionAndPlatform() {
    HttpResponse<String> response = running.get("/v2/models/iris");

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode json = RunningServer.json(response);
    assertThat(json.path("name").asText()).isEqualTo("iris");
    assertThat(json.path("platform").asText()).isEqualTo("onnx");
    assertThat(json.path("versions").toString()).isEqualTo("[\"3\"]");
    assertThat(json.path("inputs").toString())
        .isEqualTo("[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,4]}]");
    assertThat(json.path("outputs").toString())
        .isEqualTo("[{\"name\":\"probabilities\",\"datatype\":\"FP32\",\"shape\":[-1,3]}]");
    assertThat(running.get("/v2/models/iris/versions/3").statusCode()).isEqualTo(200);
  }

  @Test
  void healthServerMetadataAndPingAnswer() {
    assertThat(running.get("/v2/health/live").statusCode()).isEqualTo(200);
    assertThat(running.get("/v2/health/ready").statusCode()).isEqualTo(200);
    assertThat(running.get("/v2/models/iris/ready").statusCode()).isEqualTo(200);
    assertThat(running.get("/v2/models/iris/versions/3/ready").statusCode()).isEqualTo(200);
    assertThat(RunningServer.json(running.get("/v2")).path("name").asText()).isEqualTo("modelship-model-server");
    HttpResponse<String> ping = running.get("/ping");
    assertThat(ping.statusCode()).isEqualTo(200);
    assertThat(RunningServer.json(ping).path("status").asText()).isEqualTo("Healthy");
  }

  @Test
  void metricsCountRequestsWithModelAndVersionLabels() {
    running.post("/v2/models/iris/infer", V2Bodies.fp32(Mlp.INPUT, OnnxModels.mlpInputs(MLP, 1, 5)).toString());
    running.post("/v2/models/iris/infer", "{not json");

    String metrics = running.metrics();

    assertThat(running.metric("modelship_inference_requests_total",
            "model=\"iris\"", "version=\"3\"", "outcome=\"success\""))
        .hasValueSatisfying(count -> assertThat(count).isGreaterThanOrEqualTo(1));
    assertThat(running.metric("modelship_inference_requests_total",
            "model=\"iris\"", "version=\"3\"", "outcome=\"client_error\""))
        .hasValueSatisfying(count -> assertThat(count).isGreaterThanOrEqualTo(1));
    assertThat(metrics)
        .contains("modelship_inference_latency_seconds_bucket{model=\"iris\",outcome=\"success\",version=\"3\",le=\"0.001\"}")
        .contains("modelship_inference_latency_seconds_bucket{model=\"iris\",outcome=\"success\",version=\"3\",le=\"2.5\"}")
        .contains("modelship_inference_queue_seconds_count{model=\"iris\",version=\"3\"}")
        .contains("modelship_inference_batch_size_count{model=\"iris\",version=\"3\"}")
        .contains("modelship_model_load_seconds{model=\"iris\",version=\"3\"}")
        .contains("modelship_model_warmup_seconds{model=\"iris\",version=\"3\"}")
        .contains("modelship_model_ready{model=\"iris\",version=\"3\"} 1.0");
  }
}
