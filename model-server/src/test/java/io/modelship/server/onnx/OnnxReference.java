package io.modelship.server.onnx;

import ai.djl.engine.Engine;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.file.Path;
import java.util.Map;

/**
 * The answer a model gives when run straight through ONNX Runtime, without DJL or the server: what served
 * results are compared against.
 */
public final class OnnxReference implements AutoCloseable {
  private final OrtEnvironment environment;
  private final OrtSession session;

  public OnnxReference(Path onnxFile) throws OrtException {
    // DJL insists on creating the process-wide ONNX Runtime environment itself (with its thread settings), and
    // fails if one exists; the server under test shares this JVM, so DJL goes first.
    Engine.getEngine("OnnxRuntime");
    environment = OrtEnvironment.getEnvironment();
    session = environment.createSession(onnxFile.toString(), new OrtSession.SessionOptions());
  }

  /** Runs one single-input FP32 model on {@code rows} and returns its first output as float rows. */
  public float[][] runFloat(String input, float[][] rows) throws OrtException {
    try (OnnxTensor tensor = OnnxTensor.createTensor(environment, rows);
        OrtSession.Result result = session.run(Map.of(input, tensor))) {
      return (float[][]) result.get(0).getValue();
    }
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}
