package io.modelship.server.serve.http;

import io.modelship.server.serve.model.Datatype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Optional;

/**
 * The numbers of one JSON {@code data} array, gathered before the input's datatype may even be known (JSON does
 * not order fields), and then converted into tensor bytes. Integers stay exact until a real number shows up.
 */
final class Values {
  private static final int DEFAULT_CAPACITY = 64;
  /** The most elements a declared shape may reserve up front: a hostile shape must not allocate memory. */
  static final int MAX_PRESIZE = 1 << 16;

  private long[] longs;
  private double[] doubles;
  private int size;
  private int booleans;

  Values() {
    this(DEFAULT_CAPACITY, false);
  }

  /**
   * Sized for {@code expected} values (at most {@link #MAX_PRESIZE}), so that a body whose shape comes before its
   * data is gathered without growing; {@code reals} when the datatype is known to be floating point.
   */
  Values(long expected, boolean reals) {
    int capacity = (int) Math.max(1, Math.min(expected, MAX_PRESIZE));
    if (reals) {
      doubles = new double[capacity];
    } else {
      longs = new long[capacity];
    }
  }

  void add(long value) {
    if (doubles != null) {
      add((double) value);
      return;
    }
    if (size == longs.length) {
      longs = Arrays.copyOf(longs, size * 2);
    }
    longs[size++] = value;
  }

  void add(double value) {
    if (doubles == null) {
      doubles = new double[Math.max(longs.length, DEFAULT_CAPACITY)];
      for (int i = 0; i < size; i++) {
        doubles[i] = longs[i];
      }
      longs = null;
    }
    if (size == doubles.length) {
      doubles = Arrays.copyOf(doubles, size * 2);
    }
    doubles[size++] = value;
  }

  void add(boolean value) {
    booleans++;
    if (doubles != null) {
      add(value ? 1.0 : 0.0);
    } else {
      add(value ? 1L : 0L);
    }
  }

  int size() {
    return size;
  }

  /** The bytes of these values as {@code datatype}, or why they cannot be that type. */
  Result convert(Datatype datatype) {
    if (datatype == Datatype.BOOL && booleans != size) {
      return Result.problem("BOOL data must be true or false");
    }
    if (datatype != Datatype.BOOL && booleans > 0) {
      return Result.problem(datatype + " data must be numbers, not true or false");
    }
    if (!datatype.isFloatingPoint() && doubles != null) {
      return Result.problem(datatype + " data must be integers, found " + firstFraction());
    }
    ByteBuffer out = ByteBuffer.allocate(size * datatype.byteSize()).order(ByteOrder.nativeOrder());
    for (int i = 0; i < size; i++) {
      switch (datatype) {
        case BOOL -> out.put((byte) longs[i]);
        case UINT8 -> {
          if (longs[i] < 0 || longs[i] > 255) {
            return Result.problem("UINT8 value " + longs[i] + " is out of range");
          }
          out.put((byte) longs[i]);
        }
        case INT8 -> {
          if (longs[i] < Byte.MIN_VALUE || longs[i] > Byte.MAX_VALUE) {
            return Result.problem("INT8 value " + longs[i] + " is out of range");
          }
          out.put((byte) longs[i]);
        }
        case INT32 -> {
          if (longs[i] < Integer.MIN_VALUE || longs[i] > Integer.MAX_VALUE) {
            return Result.problem("INT32 value " + longs[i] + " is out of range");
          }
          out.putInt((int) longs[i]);
        }
        case INT64 -> out.putLong(longs[i]);
        case FP32 -> {
          double value = doubles != null ? doubles[i] : (double) longs[i];
          // JSON has no NaN or Infinity; a finite number past FP32's range would silently become Infinity.
          if (Math.abs(value) > Float.MAX_VALUE) {
            return Result.problem("FP32 value " + text(i) + " is out of range (largest is " + Float.MAX_VALUE + ")");
          }
          out.putFloat((float) value);
        }
        case FP64 -> {
          double value = doubles != null ? doubles[i] : (double) longs[i];
          if (Double.isInfinite(value)) {
            return Result.problem("FP64 value at position " + i + " is out of range (largest is "
                + Double.MAX_VALUE + ")");
          }
          out.putDouble(value);
        }
        default -> throw new IllegalStateException("unhandled datatype " + datatype);
      }
    }
    out.flip();
    return new Result(out, null);
  }

  private String text(int i) {
    return doubles != null ? String.valueOf(doubles[i]) : String.valueOf(longs[i]);
  }

  private String firstFraction() {
    for (int i = 0; i < size; i++) {
      if (doubles[i] != Math.rint(doubles[i])) {
        return String.valueOf(doubles[i]);
      }
    }
    return "a number written with a decimal point";
  }

  record Result(ByteBuffer bytes, String problem) {
    static Result problem(String why) {
      return new Result(null, why);
    }

    Optional<String> failure() {
      return Optional.ofNullable(problem);
    }
  }
}
