package io.modelship.server.serve.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One named tensor travelling through the server: a request input or a model output. The data is row-major, in
 * the platform's byte order (what ONNX Runtime reads without converting), and never changed once built.
 */
public final class Tensor {
  private final String name;
  private final Datatype datatype;
  private final long[] shape;
  private final ByteBuffer data;

  public Tensor(String name, Datatype datatype, long[] shape, ByteBuffer data) {
    this.name = name;
    this.datatype = datatype;
    this.shape = shape.clone();
    this.data = data.slice().order(ByteOrder.nativeOrder());
    long expected = elementCount(shape) * datatype.byteSize();
    if (this.data.remaining() != expected) {
      throw new IllegalArgumentException(
          "tensor " + name + " " + Arrays.toString(shape) + " needs " + expected + " bytes, has "
              + this.data.remaining());
    }
  }

  public static long elementCount(long[] shape) {
    long count = 1;
    for (long dim : shape) {
      count = Math.multiplyExact(count, dim);
    }
    return count;
  }

  public String name() {
    return name;
  }

  public Datatype datatype() {
    return datatype;
  }

  public long[] shape() {
    return shape.clone();
  }

  public int elementCount() {
    return Math.toIntExact(elementCount(shape));
  }

  /** A read-only view positioned at the first byte; callers may move its position freely. */
  public ByteBuffer data() {
    return data.asReadOnlyBuffer().order(ByteOrder.nativeOrder());
  }

  /** Rows along the first dimension, or -1 for a scalar. */
  public long rows() {
    return shape.length == 0 ? -1 : shape[0];
  }

  /** Bytes of one row along the first dimension. */
  public int rowBytes() {
    long[] row = Arrays.copyOfRange(shape, 1, shape.length);
    return Math.toIntExact(elementCount(row) * datatype.byteSize());
  }

  public Object element(int index) {
    return datatype.read(data, index);
  }

  @Override
  public String toString() {
    return name + " " + datatype + " " + Arrays.toString(shape);
  }
}
