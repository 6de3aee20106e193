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
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Turns request bodies into {@link InferenceRequest}s and results into response bodies, for the Open Inference
 * Protocol (v2 REST, with its binary tensor data extension) and for DJL Serving's {@code /predictions}. It streams
 * JSON straight into tensor bytes, so a large body never becomes a tree of objects, and takes binary tensor data
 * as slices of the body without copying. The common shape of a v2 body is read by {@link DirectInferReader} straight
 * from its bytes; Jackson reads whatever it declines. Every problem becomes a 400 whose message names the input and,
 * when the model declares it, the datatype and shape it expects.
 *
 * <p>Binary tensor data (Triton's {@code binary_tensor_data} extension, which tritonclient uses by default): the
 * body is a JSON header of {@code Inference-Header-Content-Length} bytes followed by the raw little-endian bytes of
 * every input whose {@code parameters.binary_data_size} is set, in the order the inputs are listed. Outputs are
 * returned the same way when the request says {@code parameters.binary_data_output: true}, or
 * {@code parameters.binary_data: true} on an output (an output's own setting wins).
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

  /** The header that splits a body into its JSON part and the binary tensor data behind it. */
  public static final String HEADER_LENGTH = "Inference-Header-Content-Length";

  private V2Codec() {}

  /** Which outputs an answer carries as raw bytes rather than JSON numbers. */
  public record OutputEncoding(boolean binaryByDefault, Map<String, Boolean> perOutput) {
    public static final OutputEncoding JSON = new OutputEncoding(false, Map.of());

    public OutputEncoding {
      perOutput = Map.copyOf(perOutput);
    }

    boolean binary(String output) {
      return perOutput.getOrDefault(output, binaryByDefault);
    }
  }

  /** A decoded v2 infer request and how its answer must be encoded. */
  public record Decoded(InferenceRequest request, OutputEncoding outputs) {}

  /** A response body; {@code jsonLength} is the JSON header's length when binary data follows it, else -1. */
  public record Encoded(byte[] body, int jsonLength) {
    public boolean binary() {
      return jsonLength >= 0;
    }
  }

  /** A v2 infer body that is all JSON: {@code {"id", "inputs": [{name, shape, datatype, data}], "outputs"}}. */
  public static Decoded decodeInfer(byte[] body, Signature signature) {
    return decodeInfer(body, -1, signature);
  }

  /**
   * A v2 infer body; {@code jsonLength} is the {@code Inference-Header-Content-Length} the client sent (the
   * JSON header's length, the binary tensor data following it), or -1 when it sent none.
   */
  public static Decoded decodeInfer(byte[] body, int jsonLength, Signature signature) {
    return decodeInfer(body, jsonLength, signature, true);
  }

  /**
   * {@code direct}: the common shape of a body is read by {@link DirectInferReader}, and only what it declines by
   * Jackson; false reads every body with Jackson (tests compare the two).
   */
  static Decoded decodeInfer(byte[] body, int jsonLength, Signature signature, boolean direct) {
    int headerEnd = jsonLength < 0 ? body.length : jsonLength;
    if (headerEnd > body.length) {
      throw ApiError.badRequest(HEADER_LENGTH + " is " + jsonLength + " but the body has only " + body.length
          + " bytes");
    }
    InferObject parsed = direct ? DirectInferReader.read(body, headerEnd, signature) : null;
    if (parsed == null) {
      parsed = readWithJackson(body, headerEnd, signature);
    }
    List<Tensor> inputs = parsed.materialize(body, headerEnd, jsonLength >= 0);
    return new Decoded(new InferenceRequest(parsed.id, inputs, parsed.outputNames), parsed.encoding());
  }

  private static InferObject readWithJackson(byte[] body, int headerEnd, Signature signature) {
    try (JsonParser parser = JSON.createParser(body, 0, headerEnd)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw ApiError.badRequest("the request body must be a JSON object with \"inputs\"");
      }
      InferObject parsed = readInferObject(parser, signature);
      if (parser.nextToken() != null) {
        throw ApiError.badRequest("unexpected content after the request object");
      }
      return parsed;
    } catch (JsonProcessingException e) {
      throw ApiError.badRequest(JsonProblems.describe(e));
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
        InferObject parsed = readInferObject(parser, signature);
        request = new InferenceRequest(parsed.id, parsed.materialize(body, body.length, false), parsed.outputNames);
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
      throw ApiError.badRequest(JsonProblems.describe(e));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static InferObject readInferObject(JsonParser parser, Signature signature) throws IOException {
    InferObject parsed = new InferObject();
    boolean sawInputs = false;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      switch (field) {
        case "id" -> {
          if (value != JsonToken.VALUE_STRING) {
            throw ApiError.badRequest("\"id\" must be a string");
          }
          parsed.id = parser.getText();
        }
        case "inputs" -> {
          readInputs(parser, signature, parsed.inputs);
          sawInputs = true;
        }
        case "outputs" -> readOutputs(parser, parsed);
        case "parameters" -> readRequestParameters(parser, parsed);
        default -> parser.skipChildren();
      }
    }
    if (!sawInputs) {
      throw ApiError.badRequest("the request has no \"inputs\"; the model expects " + describeAll(signature.inputs()));
    }
    return parsed;
  }

  /** What the JSON of one request said, before binary tensor data (if any) is attached to its inputs. */
  static final class InferObject {
    String id;
    final List<InputPart> inputs = new ArrayList<>();
    final List<String> outputNames = new ArrayList<>();
    final Map<String, Boolean> binaryPerOutput = new HashMap<>();
    boolean binaryByDefault;

    OutputEncoding encoding() {
      return binaryByDefault || !binaryPerOutput.isEmpty()
          ? new OutputEncoding(binaryByDefault, binaryPerOutput)
          : OutputEncoding.JSON;
    }

    /** The inputs as tensors: JSON data converted, binary data sliced out of the body in input order. */
    List<Tensor> materialize(byte[] body, int binaryStart, boolean binaryAllowed) {
      List<Tensor> tensors = new ArrayList<>(inputs.size());
      int offset = binaryStart;
      for (InputPart part : inputs) {
        if (part.binarySize < 0) {
          tensors.add(tensor(part.name, part.type, part.shape, part.values, part.spec));
          continue;
        }
        if (!binaryAllowed) {
          throw ApiError.badRequest("input '" + part.name + "' has parameters.binary_data_size but the request has"
              + " no " + HEADER_LENGTH + " header saying where its binary data starts");
        }
        long needed = byteSize(part);
        if (part.binarySize != needed) {
          throw ApiError.badRequest("input '" + part.name + "' has binary_data_size " + part.binarySize + " but "
              + part.type + " " + Arrays.toString(part.shape) + " is " + needed + " bytes");
        }
        if (part.binarySize > body.length - offset) {
          throw ApiError.badRequest("input '" + part.name + "' needs " + part.binarySize + " bytes of binary data but"
              + " only " + (body.length - offset) + " are left in the body");
        }
        ByteBuffer data = ByteBuffer.wrap(body, offset, (int) part.binarySize).slice()
            .order(ByteOrder.LITTLE_ENDIAN);
        tensors.add(new Tensor(part.name, part.type, part.shape, littleEndianToNative(data, part.type)));
        offset += (int) part.binarySize;
      }
      if (offset != body.length) {
        throw ApiError.badRequest("the body has " + (body.length - offset) + " bytes of binary data that no input"
            + " claims (check each input's binary_data_size)");
      }
      return tensors;
    }

    private static long byteSize(InputPart part) {
      try {
        return Math.multiplyExact(Tensor.elementCount(part.shape), part.type.byteSize());
      } catch (ArithmeticException e) {
        throw ApiError.badRequest("input '" + part.name + "' has an impossibly large shape "
            + Arrays.toString(part.shape));
      }
    }
  }

  /** One entry of "inputs": its data is either JSON {@code values} or {@code binarySize} bytes of the body. */
  record InputPart(String name, Datatype type, long[] shape, Values values, long binarySize,
      Optional<TensorSpec> spec) {}

  private static void readInputs(JsonParser parser, Signature signature, List<InputPart> inputs) throws IOException {
    if (parser.currentToken() != JsonToken.START_ARRAY) {
      throw ApiError.badRequest("\"inputs\" must be an array of tensors");
    }
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      if (parser.currentToken() != JsonToken.START_OBJECT) {
        throw ApiError.badRequest("each entry of \"inputs\" must be an object with name, shape, datatype, data");
      }
      inputs.add(readInput(parser, signature, inputs.size()));
    }
  }

  private static InputPart readInput(JsonParser parser, Signature signature, int index) throws IOException {
    String name = null;
    long[] shape = null;
    String datatype = null;
    Values values = null;
    long binarySize = -1;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      String input = name == null ? "#" + index : "'" + name + "'";
      switch (field) {
        case "name" -> {
          if (value != JsonToken.VALUE_STRING) {
            throw ApiError.badRequest("input #" + index + ": \"name\" must be a string");
          }
          name = parser.getText();
        }
        case "shape" -> shape = readShape(parser, input);
        case "datatype" -> {
          if (value != JsonToken.VALUE_STRING) {
            throw ApiError.badRequest("input " + input + ": \"datatype\" must be a string");
          }
          datatype = parser.getText();
        }
        case "data" -> {
          if (value != JsonToken.START_ARRAY) {
            throw ApiError.badRequest("input " + input + ": \"data\" must be an array");
          }
          values = valuesFor(shape, datatype);
          readNested(parser, values, new Nesting(), 0, name == null ? "#" + index : name);
        }
        case "parameters" -> binarySize = readInputParameters(parser, input);
        default -> parser.skipChildren();
      }
    }
    return inputPart(name, shape, datatype, values, binarySize, signature, index);
  }

  /**
   * What one entry of "inputs" said, checked against the model; its fields are null when absent and
   * {@code binarySize} is -1 without {@code parameters.binary_data_size}.
   */
  static InputPart inputPart(String name, long[] shape, String datatype, Values values, long binarySize,
      Signature signature, int index) {
    if (name == null) {
      throw ApiError.badRequest("input #" + index + " has no \"name\"; the model expects "
          + describeAll(signature.inputs()));
    }
    Optional<TensorSpec> spec = signature.input(name);
    String expected = spec.map(s -> " (expected " + s.describe() + ")").orElse("");
    if (spec.isEmpty()) {
      throw ApiError.badRequest("unknown input '" + name + "'; the model expects " + describeAll(signature.inputs()));
    }
    if (values != null && binarySize >= 0) {
      throw ApiError.badRequest("input '" + name + "' has both \"data\" and parameters.binary_data_size; send one");
    }
    if (shape == null || datatype == null || (values == null && binarySize < 0)) {
      String missing = shape == null ? "shape" : datatype == null ? "datatype" : "data";
      throw ApiError.badRequest("input '" + name + "' has no \"" + missing + "\"" + expected);
    }
    Optional<Datatype> type = Datatype.fromName(datatype);
    if (type.isEmpty()) {
      throw ApiError.badRequest("input '" + name + "' has unsupported datatype '" + datatype + "'" + expected
          + "; supported: " + Datatype.supportedNames());
    }
    if (spec.get().datatype() != type.get()) {
      throw ApiError.badRequest("input '" + name + "' has datatype " + type.get() + ", expected "
          + spec.get().describe());
    }
    return new InputPart(name, type.get(), shape, values, binarySize, spec);
  }

  /** Where a data array is gathered: sized from the shape when it came first, reals when the datatype says so. */
  static Values valuesFor(long[] shape, String datatype) {
    return new Values(elements(shape), datatype != null && Datatype.fromName(datatype)
        .map(Datatype::isFloatingPoint).orElse(false));
  }

  /** How many elements a shape read so far declares (saturating), or 64 when the data came first. */
  private static long elements(long[] shape) {
    if (shape == null) {
      return 64;
    }
    long count = 1;
    for (long dimension : shape) {
      if (dimension < 0) {
        return 64;
      }
      count = dimension == 0 ? 0 : count > Long.MAX_VALUE / dimension ? Long.MAX_VALUE : count * dimension;
    }
    return count;
  }

  /** An input's parameters: returns its binary_data_size, or -1 when it has none. */
  private static long readInputParameters(JsonParser parser, String input) throws IOException {
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      throw ApiError.badRequest("input " + input + ": \"parameters\" must be an object");
    }
    long binarySize = -1;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      if (field.equals("binary_data_size")) {
        if (value != JsonToken.VALUE_NUMBER_INT || parser.getLongValue() < 0) {
          throw ApiError.badRequest("input " + input + ": binary_data_size must be a non-negative integer");
        }
        binarySize = parser.getLongValue();
      } else {
        parser.skipChildren();
      }
    }
    return binarySize;
  }

  private static void readRequestParameters(JsonParser parser, InferObject parsed) throws IOException {
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      throw ApiError.badRequest("\"parameters\" must be an object");
    }
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      if (field.equals("binary_data_output")) {
        parsed.binaryByDefault = flag(value, "parameters.binary_data_output");
      } else {
        parser.skipChildren();
      }
    }
  }

  private static boolean flag(JsonToken value, String what) {
    if (value != JsonToken.VALUE_TRUE && value != JsonToken.VALUE_FALSE) {
      throw ApiError.badRequest(what + " must be true or false");
    }
    return value == JsonToken.VALUE_TRUE;
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
  static final class Nesting {
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

  private static void readOutputs(JsonParser parser, InferObject parsed) throws IOException {
    if (parser.currentToken() != JsonToken.START_ARRAY) {
      throw ApiError.badRequest("\"outputs\" must be an array of {\"name\": ...} objects");
    }
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      if (parser.currentToken() != JsonToken.START_OBJECT) {
        throw ApiError.badRequest("\"outputs\" must be an array of {\"name\": ...} objects");
      }
      String name = null;
      Boolean binary = null;
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        if (field.equals("name") && value == JsonToken.VALUE_STRING) {
          name = parser.getText();
        } else if (field.equals("parameters")) {
          binary = readOutputParameters(parser);
        } else {
          parser.skipChildren();
        }
      }
      if (name == null) {
        throw ApiError.badRequest("each entry of \"outputs\" needs a \"name\"");
      }
      parsed.outputNames.add(name);
      if (binary != null) {
        parsed.binaryPerOutput.put(name, binary);
      }
    }
  }

  /** An output's parameters: its binary_data flag, or null when it does not say. */
  private static Boolean readOutputParameters(JsonParser parser) throws IOException {
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      throw ApiError.badRequest("an output's \"parameters\" must be an object");
    }
    Boolean binary = null;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      if (field.equals("binary_data")) {
        binary = flag(value, "an output's parameters.binary_data");
      } else if (field.equals("classification")) {
        throw ApiError.badRequest("classification outputs are not supported; ask for the output tensor itself");
      } else {
        parser.skipChildren();
      }
    }
    return binary;
  }

  /** A v2 infer answer, all JSON. */
  public static byte[] encodeInfer(String model, String version, String id, InferenceResult result) {
    return encodeInfer(model, version, id, result, OutputEncoding.JSON).body();
  }

  /** A v2 infer answer; outputs the encoding marks binary follow the JSON header as raw little-endian bytes. */
  public static Encoded encodeInfer(String model, String version, String id, InferenceResult result,
      OutputEncoding encoding) {
    List<Tensor> binary = new ArrayList<>();
    byte[] json = write(out -> {
      out.writeStartObject();
      out.writeStringField("model_name", model);
      out.writeStringField("model_version", version);
      if (id != null) {
        out.writeStringField("id", id);
      }
      out.writeArrayFieldStart("outputs");
      for (Tensor tensor : result.outputs()) {
        boolean raw = encoding.binary(tensor.name());
        writeTensor(out, tensor, !raw);
        if (raw) {
          binary.add(tensor);
        }
      }
      out.writeEndArray();
      out.writeEndObject();
    });
    if (binary.isEmpty()) {
      return new Encoded(json, -1);
    }
    int total = json.length;
    for (Tensor tensor : binary) {
      total = Math.addExact(total, tensor.data().remaining());
    }
    ByteBuffer body = ByteBuffer.allocate(total);
    body.put(json);
    for (Tensor tensor : binary) {
      body.put(nativeToLittleEndian(tensor.data(), tensor.datatype()));
    }
    return new Encoded(body.array(), json.length);
  }

  /** A v2 infer request body with the inputs as binary tensor data; for tests and benchmarks of the extension. */
  public static Encoded encodeBinaryRequest(List<Tensor> inputs, boolean binaryOutputs) {
    byte[] json = write(out -> {
      out.writeStartObject();
      out.writeArrayFieldStart("inputs");
      for (Tensor tensor : inputs) {
        writeTensor(out, tensor, false);
      }
      out.writeEndArray();
      if (binaryOutputs) {
        out.writeObjectFieldStart("parameters");
        out.writeBooleanField("binary_data_output", true);
        out.writeEndObject();
      }
      out.writeEndObject();
    });
    ByteBuffer body = ByteBuffer.allocate(json.length + inputs.stream().mapToInt(t -> t.data().remaining()).sum());
    body.put(json);
    inputs.forEach(tensor -> body.put(nativeToLittleEndian(tensor.data(), tensor.datatype())));
    return new Encoded(body.array(), json.length);
  }

  /**
   * The binary tensor data extension puts every element in little-endian order; tensors here are in the
   * platform's order. On a little-endian machine (x86-64, arm64) both are the same and nothing is copied.
   */
  private static ByteBuffer littleEndianToNative(ByteBuffer littleEndian, Datatype type) {
    return reorder(littleEndian, ByteOrder.LITTLE_ENDIAN, ByteOrder.nativeOrder(), type);
  }

  private static ByteBuffer nativeToLittleEndian(ByteBuffer data, Datatype type) {
    return reorder(data, ByteOrder.nativeOrder(), ByteOrder.LITTLE_ENDIAN, type);
  }

  private static ByteBuffer reorder(ByteBuffer data, ByteOrder from, ByteOrder to, Datatype type) {
    if (from == to || type.byteSize() == 1) {
      return data.duplicate().order(to);
    }
    ByteBuffer in = data.duplicate().order(from);
    ByteBuffer out = ByteBuffer.allocate(in.remaining()).order(to);
    while (in.hasRemaining()) {
      switch (type.byteSize()) {
        case 4 -> out.putInt(in.getInt());
        case 8 -> out.putLong(in.getLong());
        default -> throw new IllegalStateException("unhandled element size " + type.byteSize());
      }
    }
    return out.flip();
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
      writeTensor(json, tensor, true);
    }
    json.writeEndArray();
  }

  /** One tensor object; without data it says instead how many bytes of binary data stand for it. */
  private static void writeTensor(JsonGenerator json, Tensor tensor, boolean withData) throws IOException {
    json.writeStartObject();
    json.writeStringField("name", tensor.name());
    json.writeStringField("datatype", tensor.datatype().name());
    json.writeArrayFieldStart("shape");
    for (long dim : tensor.shape()) {
      json.writeNumber(dim);
    }
    json.writeEndArray();
    if (withData) {
      json.writeArrayFieldStart("data");
      int count = tensor.elementCount();
      for (int i = 0; i < count; i++) {
        writeElement(json, tensor, i);
      }
      json.writeEndArray();
    } else {
      json.writeObjectFieldStart("parameters");
      json.writeNumberField("binary_data_size", tensor.data().remaining());
      json.writeEndObject();
    }
    json.writeEndObject();
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
      json.writeString("binary_tensor_data");
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
