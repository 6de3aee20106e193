package io.modelship.server.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Builds v2 request bodies and reads v2 response bodies in tests. */
final class V2Bodies {
  private V2Bodies() {}

  /** {@code {"inputs":[{"name":input,"shape":[rows,cols],"datatype":"FP32","data":[flat]}]}}. */
  static ObjectNode fp32(String input, float[][] rows) {
    ObjectNode body = RunningServer.JSON.createObjectNode();
    ObjectNode tensor = body.putArray("inputs").addObject();
    tensor.put("name", input).put("datatype", "FP32");
    tensor.putArray("shape").add(rows.length).add(rows.length == 0 ? 0 : rows[0].length);
    ArrayNode data = tensor.putArray("data");
    for (float[] row : rows) {
      for (float value : row) {
        data.add(value);
      }
    }
    return body;
  }

  /** The FP32 output {@code name} of a v2 response, as rows of {@code shape[1]}. */
  static float[][] output(JsonNode response, String name) {
    for (JsonNode output : response.path("outputs")) {
      if (output.path("name").asText().equals(name)) {
        int rows = output.path("shape").get(0).asInt();
        int cols = output.path("shape").get(1).asInt();
        float[][] values = new float[rows][cols];
        for (int i = 0; i < rows * cols; i++) {
          values[i / cols][i % cols] = (float) output.path("data").get(i).asDouble();
        }
        return values;
      }
    }
    throw new AssertionError("no output " + name + " in " + response);
  }
}
