package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import io.modelship.server.onnx.OnnxReference;
import io.modelship.server.serve.http.V2Codec;
import io.modelship.server.serve.model.Datatype;
import io.modelship.server.serve.model.Tensor;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The binary tensor data extension of the Open Inference Protocol, byte by byte as the Triton clients send it:
 * a JSON header of Inference-Header-Content-Length bytes, then each tensor's raw little-endian bytes.
 */
class BinaryTensorDataTest {
  private static final String INFER = "/v2/models/iris/infer";
  private static final Mlp MLP = Mlp.small();
  @TempDir static Path modelDir;
  static RunningServer running;
  static OnnxReference reference;

  @BeforeAll
  static void start() throws Exception {
    reference = new OnnxReference(OnnxModels.writeMlp(modelDir, MLP));
    running = RunningServer.startReady(TestServeOptions.defaults(modelDir, 0).withModel("iris", "1"));
  }

  @AfterAll
  static void stop() throws Exception {
    running.close();
    reference.close();
  }

  private static Tensor fp32(String name, float[][] rows) {
    ByteBuffer data = ByteBuffer.allocate(rows.length * rows[0].length * 4).order(ByteOrder.nativeOrder());
    for (float[] row : rows) {
      for (float value : row) {
        data.putFloat(value);
      }
    }
    return new Tensor(name, Datatype.FP32, new long[] {rows.length, rows[0].length}, data.flip());
  }

  /** The JSON header of a binary answer, and its binary part. */
  private record Split(JsonNode json, ByteBuffer binary) {}

  private static Split split(HttpResponse<byte[]> response) throws Exception {
    int jsonLength = Integer.parseInt(response.headers().firstValue(V2Codec.HEADER_LENGTH).orElseThrow());
    byte[] body = response.body();
    JsonNode json = RunningServer.JSON.readTree(new String(body, 0, jsonLength, StandardCharsets.UTF_8));
    return new Split(json, ByteBuffer.wrap(body, jsonLength, body.length - jsonLength).slice()
        .order(ByteOrder.LITTLE_ENDIAN));
  }

  private static float[][] rowsOf(ByteBuffer binary, int rows, int cols) {
    float[][] values = new float[rows][cols];
    for (int i = 0; i < rows * cols; i++) {
      values[i / cols][i % cols] = binary.getFloat();
    }
    return values;
  }

  @Test
  void binaryInputsAndOutputsEqualOnnxRuntime() throws Exception {
    float[][] rows = OnnxModels.mlpInputs(MLP, 3, 11);
    V2Codec.Encoded request = V2Codec.encodeBinaryRequest(List.of(fp32(Mlp.INPUT, rows)), true);

    HttpResponse<byte[]> response = running.postBytes(INFER, request.body(),
        V2Codec.HEADER_LENGTH, String.valueOf(request.jsonLength()));

    assertThat(response.statusCode()).as(new String(response.body(), StandardCharsets.UTF_8)).isEqualTo(200);
    Split answer = split(response);
    JsonNode output = answer.json().path("outputs").get(0);
    assertThat(output.path("name").asText()).isEqualTo(Mlp.OUTPUT);
    assertThat(output.path("shape").toString()).isEqualTo("[3,3]");
    assertThat(output.has("data")).isFalse();
    assertThat(output.path("parameters").path("binary_data_size").asInt()).isEqualTo(3 * 3 * 4);
    assertThat(answer.binary().remaining()).isEqualTo(36);
    assertThat(rowsOf(answer.binary(), 3, 3)).isEqualTo(reference.runFloat(Mlp.INPUT, rows));
  }

  @Test
  void binaryInputsWithAJsonAnswerAndJsonInputsWithABinaryAnswer() throws Exception {
    float[][] rows = OnnxModels.mlpInputs(MLP, 2, 12);
    V2Codec.Encoded binaryIn = V2Codec.encodeBinaryRequest(List.of(fp32(Mlp.INPUT, rows)), false);

    HttpResponse<byte[]> jsonOut = running.postBytes(INFER, binaryIn.body(),
        V2Codec.HEADER_LENGTH, String.valueOf(binaryIn.jsonLength()));
    String jsonIn = V2Bodies.fp32(Mlp.INPUT, rows).put("outputs", "placeholder").toString()
        .replace("\"placeholder\"", "[{\"name\":\"probabilities\",\"parameters\":{\"binary_data\":true}}]");
    HttpResponse<byte[]> binaryOut = running.postBytes(INFER, jsonIn.getBytes(StandardCharsets.UTF_8));

    assertThat(jsonOut.headers().firstValue(V2Codec.HEADER_LENGTH)).isEmpty();
    assertThat(V2Bodies.output(RunningServer.JSON.readTree(jsonOut.body()), Mlp.OUTPUT))
        .isEqualTo(reference.runFloat(Mlp.INPUT, rows));
    assertThat(binaryOut.statusCode()).isEqualTo(200);
    assertThat(rowsOf(split(binaryOut).binary(), 2, 3)).isEqualTo(reference.runFloat(Mlp.INPUT, rows));
  }

  @Test
  void sizesThatDoNotAddUpAre400() {
    float[][] rows = OnnxModels.mlpInputs(MLP, 2, 13);
    V2Codec.Encoded request = V2Codec.encodeBinaryRequest(List.of(fp32(Mlp.INPUT, rows)), false);
    byte[] extra = Arrays.copyOf(request.body(), request.body().length + 4);
    byte[] short1 = Arrays.copyOf(request.body(), request.body().length - 4);

    HttpResponse<byte[]> tooMuch = running.postBytes(INFER, extra, V2Codec.HEADER_LENGTH,
        String.valueOf(request.jsonLength()));
    HttpResponse<byte[]> tooLittle = running.postBytes(INFER, short1, V2Codec.HEADER_LENGTH,
        String.valueOf(request.jsonLength()));
    HttpResponse<byte[]> pastTheEnd = running.postBytes(INFER, request.body(), V2Codec.HEADER_LENGTH,
        String.valueOf(request.body().length + 1));

    assertThat(tooMuch.statusCode()).isEqualTo(400);
    assertThat(new String(tooMuch.body(), StandardCharsets.UTF_8)).contains("4 bytes of binary data that no input");
    assertThat(tooLittle.statusCode()).isEqualTo(400);
    assertThat(new String(tooLittle.body(), StandardCharsets.UTF_8)).contains("needs 32 bytes of binary data");
    assertThat(pastTheEnd.statusCode()).isEqualTo(400);
    assertThat(new String(pastTheEnd.body(), StandardCharsets.UTF_8)).contains(V2Codec.HEADER_LENGTH);
  }

  @Test
  void theServerSaysItSpeaksTheExtension() {
    assertThat(RunningServer.json(running.get("/v2")).path("extensions").toString())
        .contains("binary_tensor_data");
  }
}
