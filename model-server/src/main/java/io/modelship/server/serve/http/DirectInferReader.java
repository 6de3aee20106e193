package io.modelship.server.serve.http;

import io.modelship.server.serve.http.V2Codec.InferObject;
import io.modelship.server.serve.http.V2Codec.Nesting;
import io.modelship.server.serve.model.Signature;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the common shape of a v2 infer body straight from its bytes: {@code {"id": "...", "inputs": [{"name",
 * "shape", "datatype", "data"}, ...]}}, numbers parsed where they lie. Reading a 512-float input through Jackson's
 * tokenizer and then its double parser was a third of the server's Java time per request at load; this decodes the
 * same body in less than half the time (16.8 to 7.7 µs on one core, docs/benchmarks.md). A body it declines is read
 * twice, at most.
 *
 * <p>It must never accept what Jackson would refuse, nor read anything differently: everything outside that
 * shape (escapes or non-ASCII in strings, {@code outputs}, {@code parameters}, unknown or repeated fields,
 * {@code null}, strings in data, ragged or mixed nesting, integers past 18 digits, malformed JSON, trailing
 * content) is declined, and {@link V2Codec} reads the body again with Jackson, which also says what is wrong. The
 * checks against the model are V2Codec's own ({@link V2Codec#inputPart}), run at the same point in the body.
 * Real numbers are correctly rounded like {@link Double#parseDouble} (exact decimal-to-double for up to 18
 * significant digits and powers of ten to 22, Double.parseDouble beyond), so tensors are bit-for-bit Jackson's.
 */
final class DirectInferReader {
  /** Thrown to give up on a body; carries no stack trace, so declining costs nothing. */
  private static final RuntimeException DECLINED = new RuntimeException("declined", null, false, false) {};
  private static final int MAX_DEPTH = 16;
  private static final int MAX_NUMBER_LENGTH = 100;
  private static final int MAX_STRING_LENGTH = 10_000;
  /** Digits a long holds without overflow; a number with more is not exact here. */
  private static final int MAX_EXACT_DIGITS = 18;
  /** Every power of ten a double holds exactly. */
  private static final double[] POWERS_OF_TEN = {
      1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
      1e20, 1e21, 1e22};

  private final byte[] bytes;
  private final int end;
  private int at;

  private DirectInferReader(byte[] bytes, int end) {
    this.bytes = bytes;
    this.end = end;
  }

  /** The body's request, or null when it is not the common shape and Jackson must read it. */
  static InferObject read(byte[] body, int end, Signature signature) {
    try {
      return new DirectInferReader(body, end).request(signature);
    } catch (RuntimeException e) {
      if (e == DECLINED) {
        return null;
      }
      throw e;
    }
  }

  private InferObject request(Signature signature) {
    InferObject parsed = new InferObject();
    expect('{');
    boolean sawId = false;
    boolean sawInputs = false;
    if (!consume('}')) {
      do {
        String field = string();
        expect(':');
        if (field.equals("id") && !sawId) {
          parsed.id = string();
          sawId = true;
        } else if (field.equals("inputs") && !sawInputs) {
          inputs(signature, parsed);
          sawInputs = true;
        } else {
          throw DECLINED;
        }
      } while (consume(','));
      expect('}');
    }
    skipWhitespace();
    if (at != end || !sawInputs) {
      throw DECLINED;
    }
    return parsed;
  }

  private void inputs(Signature signature, InferObject parsed) {
    expect('[');
    if (consume(']')) {
      return;
    }
    do {
      parsed.inputs.add(input(signature, parsed.inputs.size()));
    } while (consume(','));
    expect(']');
  }

  private V2Codec.InputPart input(Signature signature, int index) {
    expect('{');
    String name = null;
    long[] shape = null;
    String datatype = null;
    Values values = null;
    if (!consume('}')) {
      do {
        String field = string();
        expect(':');
        switch (field) {
          case "name" -> name = once(name, string());
          case "shape" -> shape = once(shape, shape());
          case "datatype" -> datatype = once(datatype, string());
          case "data" -> {
            if (values != null) {
              throw DECLINED;
            }
            values = V2Codec.valuesFor(shape, datatype);
            expect('[');
            array(values, new Nesting(), 0);
          }
          default -> throw DECLINED;
        }
      } while (consume(','));
      expect('}');
    }
    return V2Codec.inputPart(name, shape, datatype, values, -1, signature, index);
  }

  private static <T> T once(T before, T value) {
    if (before != null) {
      throw DECLINED;
    }
    return value;
  }

  private long[] shape() {
    expect('[');
    long[] dims = new long[4];
    int count = 0;
    if (!consume(']')) {
      do {
        skipWhitespace();
        long dim = integer();
        if (count == dims.length) {
          dims = Arrays.copyOf(dims, count * 2);
        }
        dims[count++] = dim;
      } while (consume(','));
      expect(']');
    }
    return Arrays.copyOf(dims, count);
  }

  /** A non-negative integer of at most 18 digits; anything else is Jackson's to read or refuse. */
  private long integer() {
    int start = at;
    long value = 0;
    while (at < end && isDigit(bytes[at])) {
      value = value * 10 + (bytes[at++] - '0');
    }
    int digits = at - start;
    if (digits == 0 || digits > 18 || (digits > 1 && bytes[start] == '0') || (at < end && endsNumberBadly(bytes[at]))) {
      throw DECLINED;
    }
    return value;
  }

  /**
   * One (nested) array whose '[' was just read: numbers and booleans into {@code values}, each level's length into
   * {@code nesting}. Mixed and ragged nesting are declined (Jackson words the refusal).
   */
  private void array(Values values, Nesting nesting, int depth) {
    if (depth >= MAX_DEPTH) {
      throw DECLINED;
    }
    long count = 0;
    boolean nested = false;
    boolean scalars = false;
    skipWhitespace();
    if (at < end && bytes[at] == ']') {
      at++;
    } else {
      do {
        skipWhitespace();
        if (at >= end) {
          throw DECLINED;
        }
        byte first = bytes[at];
        if (first == '[') {
          at++;
          nested = true;
          array(values, nesting, depth + 1);
        } else if (first == 't' && literal("true")) {
          scalars = true;
          values.add(true);
        } else if (first == 'f' && literal("false")) {
          scalars = true;
          values.add(false);
        } else {
          scalars = true;
          number(values);
        }
        count++;
      } while (consume(','));
      expect(']');
    }
    if ((nested && scalars) || !nesting.fits(depth, count, nested)) {
      throw DECLINED;
    }
  }

  private boolean literal(String word) {
    if (end - at < word.length()) {
      return false;
    }
    for (int i = 0; i < word.length(); i++) {
      if (bytes[at + i] != word.charAt(i)) {
        return false;
      }
    }
    at += word.length();
    return true;
  }

  /**
   * One JSON number: an integer (at most 18 digits) as a long, any other as the correctly rounded double. Locals,
   * not fields, in the loops: this is where a large input's time goes.
   */
  private void number(Values values) {
    byte[] b = bytes;
    int end = this.end;
    int i = at;
    int start = i;
    boolean negative = i < end && b[i] == '-';
    if (negative) {
      i++;
    }
    long mantissa = 0;
    int significant = 0; // digits in the mantissa; past MAX_EXACT_DIGITS it has overflowed and is not used
    int exponent = 0;
    int digit;
    if (i < end && b[i] == '0') {
      i++;
    } else if (i < end && (digit = b[i] - '0') > 0 && digit <= 9) {
      do {
        mantissa = mantissa * 10 + digit;
        significant++;
        i++;
      } while (i < end && (digit = b[i] - '0') >= 0 && digit <= 9);
    } else {
      throw DECLINED;
    }
    boolean real = false;
    if (i < end && b[i] == '.') {
      real = true;
      int fractionStart = ++i;
      while (i < end && (digit = b[i] - '0') >= 0 && digit <= 9) {
        if (mantissa != 0 || digit != 0) {
          mantissa = mantissa * 10 + digit;
          significant++;
        }
        exponent--;
        i++;
      }
      if (i == fractionStart) {
        throw DECLINED;
      }
    }
    if (i < end && (b[i] == 'e' || b[i] == 'E')) {
      real = true;
      i++;
      boolean negativeExponent = false;
      if (i < end && (b[i] == '+' || b[i] == '-')) {
        negativeExponent = b[i++] == '-';
      }
      int exponentStart = i;
      int written = 0;
      while (i < end && (digit = b[i] - '0') >= 0 && digit <= 9) {
        written = Math.min(written * 10 + digit, 1_000_000);
        i++;
      }
      if (i == exponentStart) {
        throw DECLINED;
      }
      exponent += negativeExponent ? -written : written;
    }
    at = i;
    if (i - start > MAX_NUMBER_LENGTH || (i < end && endsNumberBadly(b[i]))) {
      throw DECLINED;
    }
    if (!real) {
      if (significant > MAX_EXACT_DIGITS) {
        throw DECLINED;
      }
      values.add(negative ? -mantissa : mantissa);
    } else if (significant <= MAX_EXACT_DIGITS && mantissa <= (1L << 53) && exponent >= -22 && exponent <= 22) {
      // Clinger's fast path: both operands exact, so the one IEEE operation rounds correctly.
      double value = exponent >= 0 ? mantissa * POWERS_OF_TEN[exponent] : mantissa / POWERS_OF_TEN[-exponent];
      values.add(negative ? -value : value);
    } else {
      values.add(Double.parseDouble(new String(b, start, i - start, StandardCharsets.ISO_8859_1)));
    }
  }

  /** A byte that cannot follow a number in JSON without Jackson refusing or reading it otherwise. */
  private static boolean endsNumberBadly(byte next) {
    return !(next == ',' || next == ']' || next == '}' || next == ' ' || next == '\n' || next == '\r'
        || next == '\t');
  }

  /** A string without escapes, control characters or non-ASCII bytes. */
  private String string() {
    skipWhitespace();
    if (at >= end || bytes[at] != '"') {
      throw DECLINED;
    }
    int start = ++at;
    while (at < end) {
      byte b = bytes[at];
      if (b == '"') {
        if (at - start > MAX_STRING_LENGTH) {
          throw DECLINED;
        }
        String text = new String(bytes, start, at - start, StandardCharsets.ISO_8859_1);
        at++;
        return text;
      }
      if (b == '\\' || b < 0x20) { // also every byte >= 0x80, which is negative
        throw DECLINED;
      }
      at++;
    }
    throw DECLINED;
  }

  private void expect(char c) {
    if (!consume(c)) {
      throw DECLINED;
    }
  }

  private boolean consume(char c) {
    skipWhitespace();
    if (at < end && bytes[at] == c) {
      at++;
      return true;
    }
    return false;
  }

  private void skipWhitespace() {
    while (at < end) {
      byte b = bytes[at];
      if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        return;
      }
      at++;
    }
  }

  private static boolean isDigit(byte b) {
    return b >= '0' && b <= '9';
  }
}
