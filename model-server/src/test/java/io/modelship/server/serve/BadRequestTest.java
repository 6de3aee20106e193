package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What clients get wrong gets a 4xx whose message says what to fix: the input's name and the datatype and
 * shape the model expects. The API key guards inference but never health, readiness or metrics.
 */
class BadRequestTest {
  private static final String KEY = "s3cret-key-for-tests";
  @TempDir static Path modelDir;
  @TempDir static Path secrets;
  static RunningServer running;

  @BeforeAll
  static void start() throws Exception {
    OnnxModels.writeMlp(modelDir, Mlp.small());
    Path keyFile = Files.writeString(secrets.resolve("api-key"), KEY + "\n");
    running = RunningServer.startReady(TestServeOptions.defaults(modelDir, 0).withModel("iris", "1")
        .withApiKeyFile(keyFile).withMaxBodyBytes(4096).withMaxRequestRows(8));
  }

  @AfterAll
  static void stop() {
    running.close();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      wrong shape         | {"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}             | input 'input' has shape [1, 3], expected FP32 [-1, 4]
      wrong datatype      | {"inputs":[{"name":"input","shape":[1,4],"datatype":"INT64","data":[1,2,3,4]}]}          | input 'input' has datatype INT64, expected FP32 [-1, 4]
      unknown datatype    | {"inputs":[{"name":"input","shape":[1,4],"datatype":"FP16","data":[1,2,3,4]}]}           | input 'input' has unsupported datatype 'FP16' (expected FP32 [-1, 4])
      too few values      | {"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4]}]}           | input 'input' has 4 values but shape [2, 4] needs 8 (expected FP32 [-1, 4])
      a shape of 2^42     | {"inputs":[{"name":"input","shape":[1099511627776,4],"datatype":"FP32","data":[1,2,3,4]}]} | input 'input' has 4 values but shape [1099511627776, 4] needs 4398046511104
      data before shape   | {"inputs":[{"name":"input","data":[1,2,3],"datatype":"FP32","shape":[1,4]}]}             | input 'input' has 3 values but shape [1, 4] needs 4
      ragged data         | {"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[[1,2,3,4],[1,2,3]]}]} | input 'input': nested data is ragged
      strings as data     | {"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":["a","b","c","d"]}]}   | input 'input': string data is not supported
      unknown input       | {"inputs":[{"name":"pixels","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}          | unknown input 'pixels'; the model expects 'input' FP32 [-1, 4]
      missing input       | {"inputs":[]}                                                                            | missing input 'input' (expected FP32 [-1, 4])
      no inputs field     | {"id":"x"}                                                                               | the request has no "inputs"; the model expects 'input' FP32 [-1, 4]
      input without data  | {"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32"}]}                            | input 'input' has no "data" (expected FP32 [-1, 4])
      unknown output      | {"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":"logits"}]} | unknown output 'logits'; the model has 'probabilities' FP32 [-1, 3]
      malformed JSON      | {"inputs":[                                                                              | malformed JSON
      not an object       | 42                                                                                       | the request body must be a JSON object
      NaN literal         | {"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,NaN,3,4]}]}         | malformed JSON at line 1, column 73: NaN and Infinity are not numbers in JSON
      Infinity literal    | {"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,-Infinity,3,4]}]}   | malformed JSON at line 1, column 
      beyond FP32         | {"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,1e39,3,4]}]}        | input 'input': FP32 value 1.0E39 is out of range
      truncated JSON      | {"inputs":[{"name":"input","shape":[1,4]                                                 | malformed JSON at line 1, column 41: the body ends before the JSON is complete
      binary size only    | {"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]} | input 'input' has parameters.binary_data_size but the request has no Inference-Header-Content-Length
      classification      | {"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":"probabilities","parameters":{"classification":2}}]} | classification outputs are not supported
      """)
  void badInputIs400WithAMessageThatSaysWhatToFix(String why, String body, String message) {
    HttpResponse<String> response = running.post("/v2/models/iris/infer", body, "X-API-Key", KEY);

    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    assertThat(RunningServer.json(response).path("error").asText()).startsWith(message)
        // Messages speak of the request, never of the library that read it.
        .doesNotContain("Jackson", "Feature", "REDACTED", "Exception", "com.fasterxml");
  }

  @Test
  void aBodyInSeveralChunksIsReadWhole() throws Exception {
    String body = V2Bodies.fp32(Mlp.INPUT, new float[][] {{5.1f, 3.5f, 1.4f, 0.2f}}).toString();
    HttpResponse<String> whole = running.post("/v2/models/iris/infer", body, "X-API-Key", KEY);
    int third = body.length() / 3;
    StringBuilder chunked = new StringBuilder();
    for (String part : new String[] {body.substring(0, third), body.substring(third, 2 * third),
        body.substring(2 * third)}) {
      chunked.append(Integer.toHexString(part.length())).append("\r\n").append(part).append("\r\n");
    }
    try (RawHttp raw = new RawHttp(running.server.port())) {
      raw.write("POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nX-API-Key: " + KEY + "\r\n"
          + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + "0\r\n\r\n");

      RawHttp.Answer answer = raw.read();

      assertThat(answer.status()).as(answer.text()).isEqualTo(200);
      assertThat(RunningServer.json(answer.text()).path("outputs"))
          .isEqualTo(RunningServer.json(whole).path("outputs"));
    }
  }

  @Test
  void moreRowsThanOneRequestMayCarryIs413() {
    float[][] nine = new float[9][4];

    HttpResponse<String> response = running.post("/v2/models/iris/infer",
        V2Bodies.fp32(Mlp.INPUT, nine).toString(), "X-API-Key", KEY);

    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(RunningServer.json(response).path("error").asText())
        .contains("9 rows", "at most 8", "--max-request-rows", "split it");
    assertThat(running.post("/v2/models/iris/infer", V2Bodies.fp32(Mlp.INPUT, new float[8][4]).toString(),
        "X-API-Key", KEY).statusCode()).isEqualTo(200);
  }

  @Test
  void aMalformedChunkSizeIs400() throws Exception {
    try (RawHttp raw = new RawHttp(running.server.port())) {
      raw.write("POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nX-API-Key: " + KEY + "\r\n"
          + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");

      RawHttp.Answer answer = raw.read();

      assertThat(answer.status()).as(answer.text()).isEqualTo(400);
      assertThat(answer.text()).contains("chunked transfer encoding is malformed");
    }
  }

  @Test
  void unauthorizedAnswersSayHowToAuthenticate() {
    String body = V2Bodies.fp32(Mlp.INPUT, new float[][] {{1, 2, 3, 4}}).toString();

    HttpResponse<String> infer = running.post("/v2/models/iris/infer", body);
    HttpResponse<String> metadata = running.get("/v2/models/iris");

    assertThat(infer.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"modelship\"");
    assertThat(metadata.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"modelship\"");
  }

  @Test
  void bareArrayOfTheWrongWidthIs400() {
    HttpResponse<String> response = running.post("/predictions/iris", "[[1.5, 2, 3]]", "X-API-Key", KEY);

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(RunningServer.json(response).path("error").asText())
        .isEqualTo("input 'input' has shape [1, 3], expected FP32 [-1, 4]");
  }

  @Test
  void unknownModelOrVersionIs404() {
    String body = V2Bodies.fp32(Mlp.INPUT, new float[][] {{1, 2, 3, 4}}).toString();

    HttpResponse<String> model = running.post("/v2/models/nope/infer", body, "X-API-Key", KEY);
    HttpResponse<String> version = running.post("/v2/models/iris/versions/9/infer", body, "X-API-Key", KEY);

    assertThat(model.statusCode()).isEqualTo(404);
    assertThat(RunningServer.json(model).path("error").asText()).isEqualTo("unknown model 'nope'");
    assertThat(version.statusCode()).isEqualTo(404);
    assertThat(running.get("/v2/models/nope", "X-API-Key", KEY).statusCode()).isEqualTo(404);
    assertThat(running.post("/predictions/nope", "[[1,2,3,4]]", "X-API-Key", KEY).statusCode()).isEqualTo(404);
  }

  @Test
  void bodyOverTheLimitIs413() {
    String big = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}],"
        + "\"parameters\":{\"pad\":\"" + "x".repeat(5000) + "\"}}";

    HttpResponse<String> response = running.post("/v2/models/iris/infer", big, "X-API-Key", KEY);

    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(RunningServer.json(response).path("error").asText()).contains("larger than 4096 bytes");
  }

  @Test
  void inferenceNeedsTheKeyInEitherHeader() {
    String body = V2Bodies.fp32(Mlp.INPUT, new float[][] {{1, 2, 3, 4}}).toString();

    assertThat(running.post("/v2/models/iris/infer", body).statusCode()).isEqualTo(401);
    assertThat(running.post("/v2/models/iris/infer", body, "X-API-Key", "wrong").statusCode()).isEqualTo(401);
    assertThat(running.post("/v2/models/iris/infer", body, "Authorization", "Bearer wrong").statusCode())
        .isEqualTo(401);
    assertThat(running.post("/predictions/iris", "[[1,2,3,4]]").statusCode()).isEqualTo(401);
    assertThat(running.get("/v2/models/iris").statusCode()).isEqualTo(401);
    assertThat(running.post("/v2/models/iris/infer", body, "X-API-Key", KEY).statusCode()).isEqualTo(200);
    assertThat(running.post("/v2/models/iris/infer", body, "Authorization", "Bearer " + KEY).statusCode())
        .isEqualTo(200);
  }

  @Test
  void healthReadinessAndMetricsNeedNoKey() {
    assertThat(running.get("/v2/health/live").statusCode()).isEqualTo(200);
    assertThat(running.get("/v2/health/ready").statusCode()).isEqualTo(200);
    assertThat(running.get("/v2/models/iris/ready").statusCode()).isEqualTo(200);
    assertThat(running.get("/ping").statusCode()).isEqualTo(200);
    assertThat(running.get("/metrics").statusCode()).isEqualTo(200);
    assertThat(running.metrics()).doesNotContain(KEY);
  }

  @Test
  void wrongMethodIs405AndUnknownPathIs404() {
    assertThat(running.get("/v2/models/iris/infer", "X-API-Key", KEY).statusCode()).isEqualTo(405);
    assertThat(running.get("/v3/whatever").statusCode()).isEqualTo(404);
  }
}
