package io.modelship.server.serve;

import io.modelship.server.serve.batch.BatchQueue;
import io.modelship.server.serve.http.V2Codec;
import io.modelship.server.serve.model.InferenceRequest;
import io.modelship.server.serve.model.InferenceResult;
import io.modelship.server.serve.model.Signature;
import io.modelship.server.serve.model.Tensor;
import io.modelship.server.serve.model.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a model version through its own batch queue before it may report ready, so the first real request
 * finds the session's allocations made and the JIT warm. Each round also goes through the v2 JSON decoder and
 * encoder, which otherwise made the first request after ready about ten times slower than the next. Inputs come from {@code input_example.json} beside
 * the model when it parses, else from the model's own input metadata (open dimensions as 1, zeros as values).
 * It never marks anything ready itself.
 */
final class WarmUp {
  private static final Logger LOG = LoggerFactory.getLogger(WarmUp.class);

  private WarmUp() {}

  /** Returns the one-request inputs it used, for the HTTP warm-up to send the same. */
  static List<Tensor> run(
      String label,
      BatchQueue queue,
      Signature signature,
      Optional<Path> example,
      int iterations,
      int maxBatchSize,
      IntConsumer beforeIteration) {
    List<Tensor> single = example.flatMap(file -> fromExample(file, signature)).orElseGet(() -> zeros(signature, 1));
    for (int i = 0; i < iterations; i++) {
      beforeIteration.accept(i);
      // The last round runs a full batch, so the largest shape batching will produce is warm too.
      boolean fullBatch = i == iterations - 1 && queue.batching() && example.isEmpty() && maxBatchSize > 1;
      List<Tensor> inputs = fullBatch ? zeros(signature, maxBatchSize) : single;
      InferenceRequest request = V2Codec.decodeInfer(V2Codec.encodeRequest(inputs), signature).request();
      List<Tensor> outputs = queue.submit(signature.inDeclarationOrder(request.inputs()), false, true).join();
      V2Codec.encodeInfer(label, "", null, new InferenceResult(outputs));
    }
    LOG.info("{}: warm-up ran {} inference(s) on {}", label, iterations,
        example.isPresent() ? example.get().getFileName() : "inputs built from the model's metadata");
    return single;
  }

  private static Optional<List<Tensor>> fromExample(Path file, Signature signature) {
    try {
      InferenceRequest request = V2Codec.decodePrediction(Files.readAllBytes(file), signature);
      Optional<String> problem = signature.check(request.inputs());
      if (problem.isPresent()) {
        LOG.warn("{} does not fit the model ({}); warming up with inputs built from metadata", file, problem.get());
        return Optional.empty();
      }
      return Optional.of(signature.inDeclarationOrder(request.inputs()));
    } catch (Exception e) {
      LOG.warn("{} cannot be read as an input example ({}); warming up with inputs built from metadata",
          file, e.getMessage());
      return Optional.empty();
    }
  }

  static List<Tensor> zeros(Signature signature, int rows) {
    List<Tensor> inputs = new ArrayList<>();
    for (TensorSpec spec : signature.inputs()) {
      long[] shape = spec.shape();
      for (int d = 0; d < shape.length; d++) {
        if (shape[d] < 0) {
          shape[d] = d == 0 ? rows : 1;
        }
      }
      int bytes = Math.toIntExact(Tensor.elementCount(shape) * spec.datatype().byteSize());
      inputs.add(new Tensor(spec.name(), spec.datatype(), shape,
          ByteBuffer.allocate(bytes).order(ByteOrder.nativeOrder())));
    }
    return inputs;
  }
}
