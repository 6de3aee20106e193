package io.modelship.server.serve.model;

import java.util.List;

/** The outputs of one request, in the model's declaration order, filtered to those the request asked for. */
public record InferenceResult(List<Tensor> outputs) {

  public InferenceResult {
    outputs = List.copyOf(outputs);
  }
}
