package io.modelship.server.serve.model;

import java.util.List;

/**
 * One decoded inference request, whatever protocol it came in on: its inputs, the outputs it asks for (empty
 * means all) and the client's id, which the response echoes.
 */
public record InferenceRequest(String id, List<Tensor> inputs, List<String> requestedOutputs) {

  public InferenceRequest {
    inputs = List.copyOf(inputs);
    requestedOutputs = List.copyOf(requestedOutputs);
  }
}
