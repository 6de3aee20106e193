package io.modelship.server.serve.model;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The inputs and outputs a loaded model declares, and the checks a request must pass before it may reach the
 * model. Checks return a message naming the input, the expected datatype and shape; they never throw.
 */
public record Signature(List<TensorSpec> inputs, List<TensorSpec> outputs) {

  public Signature {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
  }

  /**
   * Requests may be concatenated along dim 0 only when every input and output leaves dim 0 open; a model with a
   * fixed batch dimension (often 1) runs each request on its own.
   */
  public boolean batchable() {
    return !inputs.isEmpty()
        && inputs.stream().allMatch(TensorSpec::hasOpenBatchDimension)
        && outputs.stream().allMatch(TensorSpec::hasOpenBatchDimension);
  }

  /**
   * Values one row carries across all inputs, an open dimension beyond the first counted as 1: what sizes the
   * default limit on rows per request.
   */
  public long valuesPerRow() {
    long total = 0;
    for (TensorSpec spec : inputs) {
      long[] shape = spec.shape();
      long row = 1;
      for (int i = 1; i < shape.length; i++) {
        row *= Math.max(shape[i], 1);
      }
      total += row;
    }
    return Math.max(total, 1);
  }

  public Optional<TensorSpec> input(String name) {
    return inputs.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  public Optional<TensorSpec> output(String name) {
    return outputs.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /** Checks the inputs of a request; on success they can be handed to the model in declaration order. */
  public Optional<String> check(List<Tensor> given) {
    Map<String, Tensor> byName = new HashMap<>();
    for (Tensor tensor : given) {
      if (byName.put(tensor.name(), tensor) != null) {
        return Optional.of("input '" + tensor.name() + "' is given more than once");
      }
      Optional<TensorSpec> spec = input(tensor.name());
      if (spec.isEmpty()) {
        return Optional.of(
            "unknown input '" + tensor.name() + "'; the model expects " + describe(inputs));
      }
      Optional<String> problem = checkOne(tensor, spec.get());
      if (problem.isPresent()) {
        return problem;
      }
    }
    for (TensorSpec spec : inputs) {
      if (!byName.containsKey(spec.name())) {
        return Optional.of("missing input '" + spec.name() + "' (expected " + spec.describe() + ")");
      }
    }
    return Optional.empty();
  }

  /** Checks requested output names. */
  public Optional<String> checkOutputs(List<String> requested) {
    for (String name : requested) {
      if (output(name).isEmpty()) {
        return Optional.of("unknown output '" + name + "'; the model has " + describe(outputs));
      }
    }
    return Optional.empty();
  }

  /** Puts a checked request's inputs into the order the model declares them. */
  public List<Tensor> inDeclarationOrder(List<Tensor> given) {
    Map<String, Tensor> byName =
        given.stream().collect(Collectors.toMap(Tensor::name, t -> t));
    return inputs.stream().map(spec -> byName.get(spec.name())).toList();
  }

  private static Optional<String> checkOne(Tensor tensor, TensorSpec spec) {
    if (tensor.datatype() != spec.datatype()) {
      return Optional.of(
          "input '" + spec.name() + "' has datatype " + tensor.datatype() + ", expected "
              + spec.describe());
    }
    if (!spec.accepts(tensor.shape())) {
      return Optional.of(
          "input '" + spec.name() + "' has shape " + Arrays.toString(tensor.shape()) + ", expected "
              + spec.describe());
    }
    return Optional.empty();
  }

  private static String describe(List<TensorSpec> specs) {
    return specs.stream().map(s -> "'" + s.name() + "' " + s.describe()).collect(Collectors.joining(", "));
  }
}
