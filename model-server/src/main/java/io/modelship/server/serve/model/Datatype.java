package io.modelship.server.serve.model;

import ai.djl.ndarray.types.DataType;
import ai.onnxruntime.OnnxJavaType;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The tensor datatypes this server accepts and returns, named as the Open Inference Protocol names them, with
 * their ONNX Runtime and DJL counterparts. A model whose input uses any other type is refused at load.
 */
public enum Datatype {
  BOOL(1, OnnxJavaType.BOOL, DataType.BOOLEAN),
  UINT8(1, OnnxJavaType.UINT8, DataType.UINT8),
  INT8(1, OnnxJavaType.INT8, DataType.INT8),
  INT32(4, OnnxJavaType.INT32, DataType.INT32),
  INT64(8, OnnxJavaType.INT64, DataType.INT64),
  FP32(4, OnnxJavaType.FLOAT, DataType.FLOAT32),
  FP64(8, OnnxJavaType.DOUBLE, DataType.FLOAT64);

  private final int byteSize;
  private final OnnxJavaType onnxType;
  private final DataType djlType;

  Datatype(int byteSize, OnnxJavaType onnxType, DataType djlType) {
    this.byteSize = byteSize;
    this.onnxType = onnxType;
    this.djlType = djlType;
  }

  public int byteSize() {
    return byteSize;
  }

  public DataType djlType() {
    return djlType;
  }

  public boolean isFloatingPoint() {
    return this == FP32 || this == FP64;
  }

  public static Optional<Datatype> fromOnnx(OnnxJavaType type) {
    return Arrays.stream(values()).filter(d -> d.onnxType == type).findFirst();
  }

  public static Optional<Datatype> fromName(String name) {
    return Arrays.stream(values()).filter(d -> d.name().equals(name)).findFirst();
  }

  public static String supportedNames() {
    return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
  }

  /** Reads element {@code index} as a JSON-ready value: Boolean, Long or Double/Float. */
  public Object read(ByteBuffer data, int index) {
    int at = index * byteSize;
    switch (this) {
      case BOOL:
        return data.get(at) != 0;
      case UINT8:
        return (long) (data.get(at) & 0xff);
      case INT8:
        return (long) data.get(at);
      case INT32:
        return (long) data.getInt(at);
      case INT64:
        return data.getLong(at);
      case FP32:
        return data.getFloat(at);
      case FP64:
        return data.getDouble(at);
      default:
        throw new IllegalStateException("unhandled datatype " + this);
    }
  }
}
