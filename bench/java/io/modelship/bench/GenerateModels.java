package io.modelship.bench;

import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import io.modelship.server.serve.http.V2Codec;
import io.modelship.server.serve.model.Datatype;
import io.modelship.server.serve.model.Tensor;

/**
 * Writes the benchmark's two models with the test utility {@link OnnxModels}, each in its own model directory
 * ({@code OUT/tiny/model.onnx}, {@code OUT/heavy/model.onnx}), and one KServe v2 request body per model
 * ({@code OUT/bodies/NAME.json}: one row, FP32, deterministic values) that every HTTP load in the run posts, and
 * the same row with the binary tensor data extension ({@code OUT/bodies/NAME.bin}, binary outputs asked for;
 * {@code NAME.bin.header} holds its Inference-Header-Content-Length).
 * Runs on the model-server's test classpath; it is not part of any Maven build.
 */
public final class GenerateModels {
  private GenerateModels() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: GenerateModels OUT_DIR");
      System.exit(2);
    }
    Path out = Path.of(args[0]);
    write(out, "tiny", Mlp.small());
    write(out, "heavy", Mlp.computeHeavy());
  }

  private static void write(Path out, String name, Mlp mlp) throws IOException {
    Path onnx = OnnxModels.writeMlp(out.resolve(name), mlp);
    float[][] row = OnnxModels.mlpInputs(mlp, 1, 2024);
    StringBuilder body = new StringBuilder(64 + row[0].length * 12);
    body.append("{\"inputs\":[{\"name\":\"").append(Mlp.INPUT)
        .append("\",\"shape\":[1,").append(mlp.features()).append("],\"datatype\":\"FP32\",\"data\":[");
    for (int i = 0; i < row[0].length; i++) {
      if (i > 0) {
        body.append(',');
      }
      body.append(String.format(Locale.ROOT, "%.6f", row[0][i]));
    }
    body.append("]}]}");
    Path bodies = Files.createDirectories(out.resolve("bodies"));
    Files.writeString(bodies.resolve(name + ".json"), body, StandardCharsets.UTF_8);
    java.nio.ByteBuffer data = java.nio.ByteBuffer.allocate(row[0].length * 4).order(java.nio.ByteOrder.nativeOrder());
    for (float value : row[0]) {
      // The same values the JSON body carries, as printed there.
      data.putFloat(Float.parseFloat(String.format(Locale.ROOT, "%.6f", value)));
    }
    Tensor input = new Tensor(Mlp.INPUT, Datatype.FP32, new long[] {1, mlp.features()}, data.flip());
    V2Codec.Encoded binary = V2Codec.encodeBinaryRequest(java.util.List.of(input), true);
    Files.write(bodies.resolve(name + ".bin"), binary.body());
    Files.writeString(bodies.resolve(name + ".bin.header"), String.valueOf(binary.jsonLength()));
    System.out.printf(Locale.ROOT, "%s: %s, %d parameters, %d bytes; request body %d bytes%n", name, onnx,
        mlp.parameters(), Files.size(onnx), body.length());
  }
}
