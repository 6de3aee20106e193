package io.modelship.server.onnx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Real ONNX models for tests and benchmarks, written as ModelProto bytes by hand so no Python is needed:
 * an MLP classifier of any size (Gemm, Relu, ..., Gemm, Softmax; batch dimension "N"; weights seeded), a model
 * whose inputs cover every datatype the server supports, and one with a fixed batch dimension of 1.
 * Field numbers follow onnx/onnx.proto; opset 13, IR version 8.
 */
public final class OnnxModels {
  // onnx.proto TensorProto.DataType
  static final int FLOAT = 1;
  static final int INT32 = 6;
  static final int INT64 = 7;
  static final int BOOL = 9;
  static final int DOUBLE = 11;
  private static final int ATTRIBUTE_INT = 2;
  private static final int IR_VERSION = 8;
  private static final int OPSET = 13;

  private OnnxModels() {}

  /**
   * The shape of an MLP classifier: {@code features} inputs, {@code hiddenLayers} layers of {@code hidden}
   * units, {@code classes} softmax outputs. Parameters: features*hidden + (hiddenLayers-1)*hidden*hidden +
   * hidden*classes, plus biases; e.g. {@code new Mlp(512, 1024, 3, 10, 7)} is about 2.6 million.
   */
  public record Mlp(int features, int hidden, int hiddenLayers, int classes, long seed) {
    public static final String INPUT = "input";
    public static final String OUTPUT = "probabilities";

    /** The small classifier most tests use: 4 features, 16 hidden units, 3 classes. */
    public static Mlp small() {
      return new Mlp(4, 16, 1, 3, 42);
    }

    /** A compute-heavy classifier for benchmarks: a few million parameters. */
    public static Mlp computeHeavy() {
      return new Mlp(512, 1024, 3, 10, 7);
    }

    public long parameters() {
      long weights = (long) features * hidden + (long) (hiddenLayers - 1) * hidden * hidden
          + (long) hidden * classes;
      return weights + (long) hidden * hiddenLayers + classes;
    }
  }

  /** Writes {@code dir/model.onnx} for {@code mlp} and returns its path. */
  public static Path writeMlp(Path dir, Mlp mlp) {
    return write(dir.resolve("model.onnx"), mlp(mlp));
  }

  public static byte[] mlp(Mlp mlp) {
    Random random = new Random(mlp.seed());
    ProtoWriter graph = new ProtoWriter().string(2, "mlp");
    String previous = Mlp.INPUT;
    int width = mlp.features();
    for (int layer = 0; layer < mlp.hiddenLayers(); layer++) {
      String w = "w" + layer;
      String b = "b" + layer;
      graph.message(5, floatTensor(w, new long[] {width, mlp.hidden()}, random, 1.0 / Math.sqrt(width)));
      graph.message(5, floatTensor(b, new long[] {mlp.hidden()}, random, 0.1));
      graph.message(1, node("Gemm", List.of(previous, w, b), "gemm" + layer));
      graph.message(1, node("Relu", List.of("gemm" + layer), "relu" + layer));
      previous = "relu" + layer;
      width = mlp.hidden();
    }
    graph.message(5, floatTensor("w_out", new long[] {width, mlp.classes()}, random, 1.0 / Math.sqrt(width)));
    graph.message(5, floatTensor("b_out", new long[] {mlp.classes()}, random, 0.1));
    graph.message(1, node("Gemm", List.of(previous, "w_out", "b_out"), "logits"));
    graph.message(1, node("Softmax", List.of("logits"), Mlp.OUTPUT).message(5, intAttribute("axis", 1)));
    graph.message(11, valueInfo(Mlp.INPUT, FLOAT, "N", mlp.features()));
    graph.message(12, valueInfo(Mlp.OUTPUT, FLOAT, "N", mlp.classes()));
    return model(graph);
  }

  /**
   * An MLP as {@link #mlp} with one square hidden layer applied {@code repeats} times, sharing its weights: the
   * same inputs and outputs, compute that grows with {@code repeats}, a file that does not (a slower version of a
   * model, for rollout tests and benchmarks).
   */
  public static Path writeSlowMlp(Path dir, Mlp mlp, int repeats) {
    Random random = new Random(mlp.seed());
    ProtoWriter graph = new ProtoWriter().string(2, "slow-mlp");
    graph.message(5, floatTensor("w_in", new long[] {mlp.features(), mlp.hidden()}, random, 1.0 / Math.sqrt(mlp.features())));
    graph.message(5, floatTensor("b_in", new long[] {mlp.hidden()}, random, 0.1));
    graph.message(1, node("Gemm", List.of(Mlp.INPUT, "w_in", "b_in"), "gemm_in"));
    graph.message(1, node("Relu", List.of("gemm_in"), "relu_in"));
    graph.message(5, floatTensor("w_rep", new long[] {mlp.hidden(), mlp.hidden()}, random, 1.0 / Math.sqrt(mlp.hidden())));
    graph.message(5, floatTensor("b_rep", new long[] {mlp.hidden()}, random, 0.1));
    String previous = "relu_in";
    for (int i = 0; i < repeats; i++) {
      graph.message(1, node("Gemm", List.of(previous, "w_rep", "b_rep"), "gemm" + i));
      graph.message(1, node("Relu", List.of("gemm" + i), "relu" + i));
      previous = "relu" + i;
    }
    graph.message(5, floatTensor("w_out", new long[] {mlp.hidden(), mlp.classes()}, random, 1.0 / Math.sqrt(mlp.hidden())));
    graph.message(5, floatTensor("b_out", new long[] {mlp.classes()}, random, 0.1));
    graph.message(1, node("Gemm", List.of(previous, "w_out", "b_out"), "logits"));
    graph.message(1, node("Softmax", List.of("logits"), Mlp.OUTPUT).message(5, intAttribute("axis", 1)));
    graph.message(11, valueInfo(Mlp.INPUT, FLOAT, "N", mlp.features()));
    graph.message(12, valueInfo(Mlp.OUTPUT, FLOAT, "N", mlp.classes()));
    return write(dir.resolve("model.onnx"), model(graph));
  }

  /**
   * Inputs of every supported datatype but FP32, each with batch dimension "N", and one output per input:
   * {@code ids} INT64 [N,3] → Cast → {@code ids_as_float} FP32; {@code counts} INT32 [N,2] → Identity →
   * {@code counts_out} INT32; {@code weights} FP64 [N,2] → Identity → {@code weights_out} FP64; {@code flags}
   * BOOL [N,2] → Not → {@code flags_negated} BOOL.
   */
  public static Path writeDatatypes(Path dir) {
    ProtoWriter graph = new ProtoWriter().string(2, "datatypes");
    graph.message(1, node("Cast", List.of("ids"), "ids_as_float").message(5, intAttribute("to", FLOAT)));
    graph.message(1, node("Identity", List.of("counts"), "counts_out"));
    graph.message(1, node("Identity", List.of("weights"), "weights_out"));
    graph.message(1, node("Not", List.of("flags"), "flags_negated"));
    graph.message(11, valueInfo("ids", INT64, "N", 3));
    graph.message(11, valueInfo("counts", INT32, "N", 2));
    graph.message(11, valueInfo("weights", DOUBLE, "N", 2));
    graph.message(11, valueInfo("flags", BOOL, "N", 2));
    graph.message(12, valueInfo("ids_as_float", FLOAT, "N", 3));
    graph.message(12, valueInfo("counts_out", INT32, "N", 2));
    graph.message(12, valueInfo("weights_out", DOUBLE, "N", 2));
    graph.message(12, valueInfo("flags_negated", BOOL, "N", 2));
    return write(dir.resolve("model.onnx"), model(graph));
  }

  /** {@code x} FP32 [1,4] → Relu → {@code y} FP32 [1,4]: a batch dimension fixed at 1, never batched. */
  public static Path writeFixedBatch(Path dir) {
    ProtoWriter graph = new ProtoWriter().string(2, "fixed");
    graph.message(1, node("Relu", List.of("x"), "y"));
    graph.message(11, valueInfo("x", FLOAT, null, 1, 4));
    graph.message(12, valueInfo("y", FLOAT, null, 1, 4));
    return write(dir.resolve("model.onnx"), model(graph));
  }

  /**
   * {@code x} FP32 [N,K] → MatMul with a [4,2] weight → {@code y} FP32 [N,2]. K is left open in the signature
   * but only 4 works, so any other width passes request checks and fails inside ONNX Runtime.
   */
  public static Path writeOpenWidth(Path dir) {
    ProtoWriter graph = new ProtoWriter().string(2, "open-width");
    graph.message(5, floatTensor("w", new long[] {4, 2}, new Random(1), 1.0));
    graph.message(1, node("MatMul", List.of("x", "w"), "y"));
    graph.message(11, new ProtoWriter().string(1, "x").message(2, tensorType(FLOAT, "N", "K")));
    graph.message(12, new ProtoWriter().string(1, "y").message(2, tensorType(FLOAT, "N", 2L)));
    return write(dir.resolve("model.onnx"), model(graph));
  }

  /**
   * {@code x} FP32 [N,4] → MatMul with a [4,width] weight → {@code y} FP32 [N,width]: a small request with a large
   * answer, for what happens when the answer does not fit in memory.
   */
  public static Path writeWide(Path dir, int width) {
    ProtoWriter graph = new ProtoWriter().string(2, "wide");
    graph.message(5, floatTensor("w", new long[] {4, width}, new Random(3), 1.0));
    graph.message(1, node("MatMul", List.of("x", "w"), "y"));
    graph.message(11, valueInfo("x", FLOAT, "N", 4));
    graph.message(12, valueInfo("y", FLOAT, "N", width));
    return write(dir.resolve("model.onnx"), model(graph));
  }

  /**
   * A broken release of an MLP classifier: its signature says {@code input} FP32 [N,K] → {@code probabilities}
   * FP32 [N,classes], like {@code Mlp}'s, but its weight has one row, so it loads and warms up (warm-up fills an
   * open dimension with 1) and then every real request of {@code features > 1} values passes the server's checks
   * and fails inside ONNX Runtime: a 5xx for all.
   */
  public static Path writeBroken(Path dir, int features, int classes) {
    if (features < 2) {
      throw new IllegalArgumentException("a request of one feature would work");
    }
    ProtoWriter graph = new ProtoWriter().string(2, "broken");
    graph.message(5, floatTensor("w", new long[] {1, classes}, new Random(5), 1.0));
    graph.message(1, node("MatMul", List.of(Mlp.INPUT, "w"), Mlp.OUTPUT));
    graph.message(11, new ProtoWriter().string(1, Mlp.INPUT).message(2, tensorType(FLOAT, "N", "K")));
    graph.message(12, new ProtoWriter().string(1, Mlp.OUTPUT).message(2, tensorType(FLOAT, "N", (long) classes)));
    return write(dir.resolve("model.onnx"), model(graph));
  }

  /** A tensor TypeProto; each dim is a String (symbolic, dim_param) or a Long (dim_value). */
  private static ProtoWriter tensorType(int elemType, Object... dims) {
    ProtoWriter shape = new ProtoWriter();
    for (Object dim : dims) {
      shape.message(1, dim instanceof String param
          ? new ProtoWriter().string(2, param)
          : new ProtoWriter().varint(1, (Long) dim));
    }
    return new ProtoWriter().message(1, new ProtoWriter().varint(1, elemType).message(2, shape));
  }

  private static byte[] model(ProtoWriter graph) {
    return new ProtoWriter()
        .varint(1, IR_VERSION)
        .string(2, "modelship-tests")
        .message(8, new ProtoWriter().string(1, "").varint(2, OPSET))
        .message(7, graph)
        .toByteArray();
  }

  private static ProtoWriter node(String op, List<String> inputs, String output) {
    ProtoWriter node = new ProtoWriter();
    inputs.forEach(input -> node.string(1, input));
    return node.string(2, output).string(3, output + "_node").string(4, op);
  }

  private static ProtoWriter intAttribute(String name, long value) {
    return new ProtoWriter().string(1, name).varint(3, value).varint(20, ATTRIBUTE_INT);
  }

  private static ProtoWriter floatTensor(String name, long[] dims, Random random, double scale) {
    long count = 1;
    for (long dim : dims) {
      count *= dim;
    }
    ByteBuffer raw = ByteBuffer.allocate(Math.toIntExact(count * 4)).order(ByteOrder.LITTLE_ENDIAN);
    for (long i = 0; i < count; i++) {
      raw.putFloat((float) (random.nextGaussian() * scale));
    }
    ProtoWriter tensor = new ProtoWriter();
    for (long dim : dims) {
      tensor.varint(1, dim);
    }
    return tensor.varint(2, FLOAT).string(8, name).bytes(9, raw.array());
  }

  /** A tensor-typed graph input or output; {@code batchParam} names an open first dimension, null for none. */
  private static ProtoWriter valueInfo(String name, int elemType, String batchParam, long... dims) {
    ProtoWriter shape = new ProtoWriter();
    if (batchParam != null) {
      shape.message(1, new ProtoWriter().string(2, batchParam));
    }
    for (long dim : dims) {
      shape.message(1, new ProtoWriter().varint(1, dim));
    }
    ProtoWriter tensorType = new ProtoWriter().varint(1, elemType).message(2, shape);
    return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
  }

  private static Path write(Path file, byte[] bytes) {
    try {
      Files.createDirectories(file.getParent());
      Files.write(file, bytes);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Deterministic inputs for {@code mlp}: {@code rows} rows of {@code features} values in [-2, 2). */
  public static float[][] mlpInputs(Mlp mlp, int rows, long seed) {
    Random random = new Random(seed);
    float[][] inputs = new float[rows][mlp.features()];
    for (float[] row : inputs) {
      for (int i = 0; i < row.length; i++) {
        row[i] = random.nextFloat() * 4 - 2;
      }
    }
    return inputs;
  }
}
