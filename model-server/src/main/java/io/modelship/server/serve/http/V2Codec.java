package io.modelship.server.serve.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.modelship.server.serve.model.Datatype;
import io.modelship.server.serve.model.InferenceRequest;
import io.modelship.server.serve.model.InferenceResult;
import io.modelship.server.serve.model.Signature;
import io.modelship.server.serve.model.Tensor;
import io.modelship.server.serve.model.TensorSpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Turns request bodies into {@link InferenceRequest}s and results into response bodies, for the Open Inference
 * Protocol (v2) and for DJL Serving's {@code /predictions}. It streams JSON straight into tensor bytes, so a
 * large body never becomes a tree of objects. Every problem becomes a 400 whose message names the input and,
 * when the model declares it, the datatype and shape it expects.
 */
public final class V2Codec {
  /**
   * The fast double parser (FastDoubleParser, correctly rounded like Double.parseDouble) matters here: with the
   * JDK's parser, number parsing was half of all bytes allocated per request on a 512-float input.
   */
  private static final JsonFactory JSON =
      JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
          .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
          .build();

  private V2Codec() {}

  /** A v2 infer body: {@code {"id", "inputs": [{name, shape, datatype, data}], "outputs": [{name}]}}. */
  public static InferenceRequest decodeInfer(byte[] body, Signature signature) {
    try (JsonParser parser = JSON.createParser(body)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw ApiError.badRequest("the request body must be a JSON object with \"inputs\"");
      }
      InferenceRequest request = readInferObject(parser, signature);
      if (parser.nextToken() != null) {
        throw ApiError.badRequest("unexpected content after the request object");
      }
      return request;
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest("malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * A DJL Serving style body: either a v2 infer object, or a bare (nested) array that is the single input of a
   * single-input model, its shape read from the nesting and its datatype taken from the model.
   */
  public static InferenceRequest decodePrediction(byte[] body, Signature signature) {
    try (JsonParser parser = JSON.createParser(body)) {
      JsonToken first = parser.nextToken();
      InferenceRequest request;
      if (first == JsonToken.START_OBJECT) {
        request = readInferObject(parser, signature);
      } else if (first == JsonToken.START_ARRAY) {
        if (signature.inputs().size() != 1) {
          throw ApiError.badRequest(
              "a bare array can only feed a model with one input; this model expects "
                  + describeAll(signature.inputs()) + ", send {\"inputs\": [...]} instead");
        }
        TensorSpec spec = signature.inputs().get(0);
        Values values = new Values();
        Nesting nesting = new Nesting();
        readNested(parser, values, nesting, 0, spec.name());
        long[] shape = nesting.shape();
        request = new InferenceRequest(null, List.of(tensor(spec.name(), spec.datatype(), shape, values,
            Optional.of(spec))), List.of());
      } else {
        throw ApiError.badRequest("the request body must be a JSON object or a (nested) array");
      }
      if (parser.nextToken() != null) {
        throw ApiError.badRequest("unexpected content after the request body");
      }
      return request;
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest("malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static InferenceRequest readInferObject(JsonParser parser, Signature signature) throws IOException {
    String id = null;
    List<Tensor> inputs = null;
    List<String> outputs = List.of();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      switch (field) {
        case "id" -> {
          if (value != JsonToken.VALUE_STRING) {
            throw ApiError.badRequest("\"id\" must be a string");
          }
          id = parser.getText();
        }
        case "inputs" -> inputs = readInputs(parser, signature);
        case "outputs" -> outputs = readOutputNames(parser);
        default -> parser.skipChildren();
      }
    }
    if (inputs == null) {
      throw ApiError.badRequest("the request has no \"inputs\"; the model expects " + describeAll(signature.inputs()));
    }
    return new InferenceRequest(id, inputs, outputs);
  }

  private static List<Tensor> readInputs(JsonParser parser, Signature signature) throws IOException {
    if (parser.currentToken() != JsonToken.START_ARRAY) {
      throw ApiError.badRequest("\"inputs\" must be an array of tensors");
    }
    List<Tensor> inputs = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      if (parser.currentToken() != JsonToken.START_OBJECT) {
        throw ApiError.badRequest("each entry of \"inputs\" must be an object with name, shape, datatype, data");
      }
      inputs.add(readInput(parser, signature, inputs.size()));
    }
    return inputs;
  }

  private static Tensor readInput(JsonParser parser, Signature signature, int index) throws IOException {
    String name = null;
    long[] shape = null;
    String datatype = null;
    Values values = null;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      switch (field) {
        case "name" -> {
          if (value != JsonToken.VALUE_STRING) {
            throw ApiError.badRequest("input #" + index + ": \"name\" must be a string");
          }
          name = parser.getText();
        }
        case "shape" -> shape = readShape(parser, name == null ? "#" + index : "'" + name + "'");
        case "datatype" -> {
          if (value != JsonToken.VALUE_STRING) {
            throw ApiError.badRequest("input #" + index + ": \"datatype\" must be a string");
          }
          datatype = parser.getText();
        }
        case "data" -> {
          if (value != JsonToken.START_ARRAY) {
            throw ApiError.badRequest("input #" + index + ": \"data\" must be an array");
          }
          values = new Values();
          readNested(parser, values, new Nesting(), 0, name == null ? "#" + index : name);
        }
        default -> parser.skipChildren();
      }
    }
    if (name == null) {
      throw ApiError.badRequest("input #" + index + " has no \"name\"; the model expects "
          + describeAll(signature.inputs()));
    }
    Optional<TensorSpec> spec = signature.input(name);
    String expected = spec.map(s -> " (expected " + s.describe() + ")").orElse("");
    if (spec.isEmpty()) {
      throw ApiError.badRequest("unknown input '" + name + "'; the model expects " + describeAll(signature.inputs()));
    }
    if (shape == null || datatype == null || values == null) {
      String missing = shape == null ? "shape" : datatype == null ? "datatype" : "data";
      throw ApiError.badRequest("input '" + name + "' has no \"" + missing + "\"" + expected);
    }
    Optional<Datatype> type = Datatype.fromName(datatype);
    if (type.isEmpty()) {
      throw ApiError.badRequest("input '" + name + "' has unsupported datatype '" + datatype + "'" + expected
          + "; supported: " + Datatype.supportedNames());
    }
    return tensor(name, type.get(), shape, values, spec);
  }

  private static Tensor tensor(String name, Datatype type, long[] shape, Values values, Optional<TensorSpec> spec) {
    String expected = spec.map(s -> " (expected " + s.describe() + ")").orElse("");
    long count;
    try {
      count = Tensor.elementCount(shape);
    } catch (ArithmeticException e) {
      throw ApiError.badRequest("input '" + name + "' has an impossibly large shape " + Arrays.toString(shape));
    }
    if (count != values.size()) {
      throw ApiError.badRequest("input '" + name + "' has " + values.size() + " values but shape "
          + Arrays.toString(shape) + " needs " + count + expected);
    }
    if (spec.isPresent() && spec.get().datatype() != type) {
      throw ApiError.badRequest("input '" + name + "' has datatype " + type + ", expected " + spec.get().describe());
    }
    Values.Result converted = values.convert(type);
    if (converted.failure().isPresent()) {
      throw ApiError.badRequest("input '" + name + "': " + converted.problem() + expected);
    }
    return new Tensor(name, type, shape, converted.bytes());
  }

  private static long[] readShape(JsonParser parser, String input) throws IOException {
    if (parser.currentToken() != JsonToken.START_ARRAY) {
      throw ApiError.badRequest("input " + input + ": \"shape\" must be an array of integers");
    }
    List<Long> dims = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      if (parser.currentToken() != JsonToken.VALUE_NUMBER_INT || parser.getLongValue() < 0) {
        throw ApiError.badRequest("input " + input + ": \"shape\" must hold non-negative integers");
      }
      dims.add(parser.getLongValue());
    }
    return dims.stream().mapToLong(Long::longValue).toArray();
  }

  /**
   * Reads one (nested) array whose START_ARRAY is the current token, appending scalars to {@code values} and
   * recording each level's length in {@code nesting}; a ragged array is refused.
   */
  private static void readNested(JsonParser parser, Values values, Nesting nesting, int depth, String input)
      throws IOException {
    long count = 0;
    boolean nested = false;
    boolean scalars = false;
    JsonToken token;
    while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
      switch (token) {
        case START_ARRAY -> {
          nested = true;
          readNested(parser, values, nesting, depth + 1, input);
        }
        case VALUE_NUMBER_INT -> {
          scalars = true;
          if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
            throw ApiError.badRequest("input '" + input + "': " + parser.getText() + " does not fit in 64 bits");
          }
          values.add(parser.getLongValue());
        }
        case VALUE_NUMBER_FLOAT -> {
          scalars = true;
          values.add(parser.getDoubleValue());
        }
        case VALUE_TRUE, VALUE_FALSE -> {
          scalars = true;
          values.add(token == JsonToken.VALUE_TRUE);
        }
        case VALUE_STRING -> throw ApiError.badRequest(
            "input '" + input + "': string data is not supported, only numbers and booleans");
        default -> throw ApiError.badRequest("input '" + input + "': data may hold only numbers, booleans and arrays");
      }
      count++;
      if (nested && scalars) {
        throw ApiError.badRequest("input '" + input + "': data mixes numbers and arrays at one level");
      }
    }
    if (!nesting.fits(depth, count, nested)) {
      throw ApiError.badRequest("input '" + input + "': nested data is ragged; every row must have the same length");
    }
  }

  /** The length of each nesting level seen so far, and the depth at which numbers sit. */
  private static final class Nesting {
    private final List<Long> lengths = new ArrayList<>();
    private int leafDepth = -1;

    boolean fits(int depth, long count, boolean nested) {
      while (lengths.size() <= depth) {
        lengths.add(-1L);
      }
      if (!nested && count > 0) {
        if (leafDepth >= 0 && leafDepth != depth) {
          return false;
        }
        leafDepth = depth;
      }
      if (lengths.get(depth) < 0) {
        lengths.set(depth, count);
        return true;
      }
      return lengths.get(depth) == count;
    }

    long[] shape() {
      return lengths.stream().mapToLong(Long::longValue).toArray();
    }
  }

  private static List<String> readOutputNames(JsonParser parser) throws IOException {
    if (parser.currentToken() != JsonToken.START_ARRAY) {
      throw ApiError.badRequest("\"outputs\" must be an array of {\"name\": ...} objects");
    }
    List<String> names = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      if (parser.currentToken() != JsonToken.START_OBJECT) {
        throw ApiError.badRequest("\"outputs\" must be an array of {\"name\": ...} objects");
      }
      String name = null;
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        if (field.equals("name") && value == JsonToken.VALUE_STRING) {
          name = parser.getText();
        } else {
          parser.skipChildren();
        }
      }
      if (name == null) {
        throw ApiError.badRequest("each entry of \"outputs\" needs a \"name\"");
      }
      names.add(name);
    }
    return names;
  }

  public static byte[] encodeInfer(String model, String version, String id, InferenceResult result) {
    return write(json -> {
      json.writeStartObject();
      json.writeStringField("model_name", model);
      json.writeStringField("model_version", version);
      if (id != null) {
        json.writeStringField("id", id);
      }
      writeTensors(json, "outputs", result.outputs());
      json.writeEndObject();
    });
  }

  /** A v2 infer request body carrying {@code inputs}; warm-up sends it through the same decoder clients hit. */
  public static byte[] encodeRequest(List<Tensor> inputs) {
    return write(json -> {
      json.writeStartObject();
      writeTensors(json, "inputs", inputs);
      json.writeEndObject();
    });
  }

  private static void writeTensors(JsonGenerator json, String field, List<Tensor> tensors) throws IOException {
    json.writeArrayFieldStart(field);
    for (Tensor tensor : tensors) {
      json.writeStartObject();
      json.writeStringField("name", tensor.name());
      json.writeStringField("datatype", tensor.datatype().name());
      json.writeArrayFieldStart("shape");
      for (long dim : tensor.shape()) {
        json.writeNumber(dim);
      }
      json.writeEndArray();
      json.writeArrayFieldStart("data");
      int count = tensor.elementCount();
      for (int i = 0; i < count; i++) {
        writeElement(json, tensor, i);
      }
      json.writeEndArray();
      json.writeEndObject();
    }
    json.writeEndArray();
  }

  /** The simple DJL-style answer: the one output as a nested array, or an object of them by name. */
  static byte[] encodePrediction(InferenceResult result) {
    return write(json -> {
      if (result.outputs().size() == 1) {
        writeNested(json, result.outputs().get(0));
        return;
      }
      json.writeStartObject();
      for (Tensor output : result.outputs()) {
        json.writeFieldName(output.name());
        writeNested(json, output);
      }
      json.writeEndObject();
    });
  }

  /** {@code GET /v2}. */
  static byte[] encodeServerMetadata(String name, String version) {
    return write(json -> {
      json.writeStartObject();
      json.writeStringField("name", name);
      json.writeStringField("version", version);
      json.writeArrayFieldStart("extensions");
      json.writeEndArray();
      json.writeEndObject();
    });
  }

  /** {@code GET /v2/models/{m}[/versions/{v}]}: the v2 model metadata of one version. */
  static byte[] encodeModelMetadata(String name, List<String> versions, Signature signature) {
    return write(json -> {
      json.writeStartObject();
      json.writeStringField("name", name);
      json.writeArrayFieldStart("versions");
      for (String version : versions) {
        json.writeString(version);
      }
      json.writeEndArray();
      json.writeStringField("platform", "onnx");
      writeSpecs(json, "inputs", signature.inputs());
      writeSpecs(json, "outputs", signature.outputs());
      json.writeEndObject();
    });
  }

  private static void writeSpecs(JsonGenerator json, String field, List<TensorSpec> specs) throws IOException {
    json.writeArrayFieldStart(field);
    for (TensorSpec spec : specs) {
      json.writeStartObject();
      json.writeStringField("name", spec.name());
      json.writeStringField("datatype", spec.datatype().name());
      json.writeArrayFieldStart("shape");
      for (long dim : spec.shape()) {
        json.writeNumber(dim);
      }
      json.writeEndArray();
      json.writeEndObject();
    }
    json.writeEndArray();
  }

  /** A one-field object such as {@code {"ready": true}}. */
  static byte[] encodeFlag(String field, boolean value) {
    return write(json -> {
      json.writeStartObject();
      json.writeBooleanField(field, value);
      json.writeEndObject();
    });
  }

  /** DJL Serving's {@code /ping} answer. */
  static byte[] encodeStatus(String status) {
    return write(json -> {
      json.writeStartObject();
      json.writeStringField("status", status);
      json.writeEndObject();
    });
  }

  static byte[] encodeError(String message) {
    return write(json -> {
      json.writeStartObject();
      json.writeStringField("error", message);
      json.writeEndObject();
    });
  }

  private static void writeNested(JsonGenerator json, Tensor tensor) throws IOException {
    long[] shape = tensor.shape();
    if (shape.length == 0) {
      writeElement(json, tensor, 0);
      return;
    }
    writeLevel(json, tensor, shape, 0, 0);
  }

  private static int writeLevel(JsonGenerator json, Tensor tensor, long[] shape, int depth, int index)
      throws IOException {
    json.writeStartArray();
    for (long i = 0; i < shape[depth]; i++) {
      if (depth == shape.length - 1) {
        writeElement(json, tensor, index++);
      } else {
        index = writeLevel(json, tensor, shape, depth + 1, index);
      }
    }
    json.writeEndArray();
    return index;
  }

  private static void writeElement(JsonGenerator json, Tensor tensor, int index) throws IOException {
    Object value = tensor.element(index);
    if (value instanceof Float f) {
      json.writeNumber(f);
    } else if (value instanceof Double d) {
      json.writeNumber(d);
    } else if (value instanceof Long l) {
      json.writeNumber(l);
    } else {
      json.writeBoolean((Boolean) value);
    }
  }

  private static String describeAll(List<TensorSpec> specs) {
    StringBuilder text = new StringBuilder();
    for (TensorSpec spec : specs) {
      if (!text.isEmpty()) {
        text.append(", ");
      }
      text.append('\'').append(spec.name()).append("' ").append(spec.describe());
    }
    return text.toString();
  }

  private interface JsonWriting {
    void write(JsonGenerator json) throws IOException;
  }

  private static byte[] write(JsonWriting writing) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator json = JSON.createGenerator(out)) {
      writing.write(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
