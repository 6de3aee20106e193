package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelship.server.onnx.OnnxModels;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** INT64, INT32, FP64 and BOOL inputs reach the model intact and come back with their own datatypes. */
class DatatypesTest {
  @TempDir static Path modelDir;
  static RunningServer running;

  @BeforeAll
  static void start() {
    OnnxModels.writeDatatypes(modelDir);
    running = RunningServer.startReady(TestServeOptions.defaults(modelDir, 0).withModel("types", "1"));
  }

  @AfterAll
  static void stop() {
    running.close();
  }

  @Test
  void everyDatatypeRoundTrips() {
    String body = """
        {"id": "t1", "inputs": [
          {"name": "ids", "shape": [2, 3], "datatype": "INT64", "data": [[1, 2, 9007199254740993], [-4, 5, 6]]},
          {"name": "counts", "shape": [2, 2], "datatype": "INT32", "data": [2147483647, -2147483648, 0, 7]},
          {"name": "weights", "shape": [2, 2], "datatype": "FP64", "data": [0.1, 1e300, -2.5, 3]},
          {"name": "flags", "shape": [2, 2], "datatype": "BOOL", "data": [true, false, false, true]}
        ]}""";

    HttpResponse<String> response = running.post("/v2/models/types/infer", body);

    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    JsonNode json = RunningServer.json(response);
    assertThat(output(json, "ids_as_float").path("datatype").asText()).isEqualTo("FP32");
    assertThat(output(json, "ids_as_float").path("data").toString()).isEqualTo("[1.0,2.0,9.0071993E15,-4.0,5.0,6.0]");
    assertThat(output(json, "counts_out").path("datatype").asText()).isEqualTo("INT32");
    assertThat(output(json, "counts_out").path("data").toString()).isEqualTo("[2147483647,-2147483648,0,7]");
    assertThat(output(json, "weights_out").path("datatype").asText()).isEqualTo("FP64");
    assertThat(output(json, "weights_out").path("data").toString()).isEqualTo("[0.1,1.0E300,-2.5,3.0]");
    assertThat(output(json, "flags_negated").path("datatype").asText()).isEqualTo("BOOL");
    assertThat(output(json, "flags_negated").path("data").toString()).isEqualTo("[false,true,true,false]");
    assertThat(output(json, "flags_negated").path("shape").toString()).isEqualTo("[2,2]");
  }

  @Test
  void requestedOutputsAreTheOnlyOnesReturned() {
    String body = """
        {"inputs": [
          {"name": "ids", "shape": [1, 3], "datatype": "INT64", "data": [1, 2, 3]},
          {"name": "counts", "shape": [1, 2], "datatype": "INT32", "data": [1, 2]},
          {"name": "weights", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]},
          {"name": "flags", "shape": [1, 2], "datatype": "BOOL", "data": [true, true]}
        ], "outputs": [{"name": "counts_out"}]}""";

    JsonNode json = RunningServer.json(running.post("/v2/models/types/infer", body));

    assertThat(json.path("outputs")).hasSize(1);
    assertThat(json.path("outputs").get(0).path("name").asText()).isEqualTo("counts_out");
  }

  @Test
  void valuesThatDoNotFitTheDatatypeAre400() {
    String fraction = body("[1.5, 2, 3]", "[1, 2]", "[true, false]");
    String bigInt32 = body("[1, 2, 3]", "[2147483648, 2]", "[true, false]");
    String numberAsBool = body("[1, 2, 3]", "[1, 2]", "[1, 0]");

    assertThat(error(fraction)).isEqualTo("input 'ids': INT64 data must be integers, found 1.5 (expected INT64 [-1, 3])");
    assertThat(error(bigInt32)).isEqualTo("input 'counts': INT32 value 2147483648 is out of range (expected INT32 [-1, 2])");
    assertThat(error(numberAsBool)).isEqualTo("input 'flags': BOOL data must be true or false (expected BOOL [-1, 2])");
  }

  private static String body(String ids, String counts, String flags) {
    return "{\"inputs\": ["
        + "{\"name\": \"ids\", \"shape\": [1, 3], \"datatype\": \"INT64\", \"data\": " + ids + "},"
        + "{\"name\": \"counts\", \"shape\": [1, 2], \"datatype\": \"INT32\", \"data\": " + counts + "},"
        + "{\"name\": \"weights\", \"shape\": [1, 2], \"datatype\": \"FP64\", \"data\": [1, 2]},"
        + "{\"name\": \"flags\", \"shape\": [1, 2], \"datatype\": \"BOOL\", \"data\": " + flags + "}]}";
  }

  private static String error(String body) {
    HttpResponse<String> response = running.post("/v2/models/types/infer", body);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    return RunningServer.json(response).path("error").asText();
  }

  @Test
  void metadataNamesEveryDatatype() {
    JsonNode json = RunningServer.json(running.get("/v2/models/types"));

    assertThat(json.path("inputs").toString())
        .contains("{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[-1,3]}")
        .contains("{\"name\":\"counts\",\"datatype\":\"INT32\",\"shape\":[-1,2]}")
        .contains("{\"name\":\"weights\",\"datatype\":\"FP64\",\"shape\":[-1,2]}")
        .contains("{\"name\":\"flags\",\"datatype\":\"BOOL\",\"shape\":[-1,2]}");
  }

  private static JsonNode output(JsonNode response, String name) {
    for (JsonNode output : response.path("outputs")) {
      if (output.path("name").asText().equals(name)) {
        return output;
      }
    }
    throw new AssertionError("no output " + name + " in " + response);
  }
}
