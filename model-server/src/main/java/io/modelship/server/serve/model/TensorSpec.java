package io.modelship.server.serve.model;

import java.util.Arrays;

/**
 * What the model declares about one input or output: its name, datatype and shape, where -1 marks a dimension
 * the model leaves open (a symbolic dimension such as the batch dimension "N").
 */
public record TensorSpec(String name, Datatype datatype, long[] shape) {

  public TensorSpec {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  /** True when the first dimension is open, which is what dynamic batching needs. */
  public boolean hasOpenBatchDimension() {
    return shape.length > 0 && shape[0] < 0;
  }

  /** Whether a concrete shape fits this declaration. */
  public boolean accepts(long[] concrete) {
    if (concrete.length != shape.length) {
      return false;
    }
    for (int i = 0; i < shape.length; i++) {
      if (concrete[i] < 0 || (shape[i] >= 0 && shape[i] != concrete[i])) {
        return false;
      }
    }
    return true;
  }

  /** "FP32 [-1, 4]": how error messages and logs name what the model expects. */
  public String describe() {
    return datatype + " " + Arrays.toString(shape);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof TensorSpec that
        && name.equals(that.name)
        && datatype == that.datatype
        && Arrays.equals(shape, that.shape);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * name.hashCode() + datatype.hashCode()) + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + " " + describe();
  }
}
