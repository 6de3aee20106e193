package io.modelship.server.serve.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelship.server.serve.model.Datatype;
import io.modelship.server.serve.model.Signature;
import io.modelship.server.serve.model.Tensor;
import io.modelship.server.serve.model.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The direct reader must read every body it accepts exactly as Jackson does (the same tensors, bit for bit, or the
 * same refusal), and decline the rest. Each test decodes a body both ways and compares what a client would get.
 */
class DirectInferReaderTest {
  private static final Signature FP32 = signature(Datatype.FP32, 4);
  private static final Signature FP64 = signature(Datatype.FP64, -1);

  private static Signature signature(Datatype type, long width) {
    return new Signature(List.of(new TensorSpec("input", type, new long[] {-1, width})),
        List.of(new TensorSpec("output", Datatype.FP32, new long[] {-1, 3})));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[0.473814,0.943625,-1.246808,1.124557]}]}",
      "{\"id\":\"r-1\",\"inputs\":[{\"name\":\"input\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":[[1,2,3,4],[5,6,7,8]]}]}",
      " {\n \"inputs\" : [ { \"data\" : [ 1 , 2.5e0 , -0.0 , 3E-2 ] , \"datatype\" : \"FP32\" , \"shape\" : [ 1 , 4 ] ,\t\"name\":\"input\" } ] } \r\n",
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1e-46,3.4028234e38,1.17549435E-38,0]}]}",
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[0,4],\"datatype\":\"FP32\",\"data\":[]}]}",
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[[[1]],[[2]],[[3]],[[4]]]}]}",
  })
  void readsTheCommonShapeDirectlyAndAsJacksonDoes(String body) {
    assertThat(readDirectly(body, FP32)).as("read directly").isTrue();
    assertThat(outcome(body, FP32, true)).isEqualTo(outcome(body, FP32, false)).startsWith("ok");
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}],\"outputs\":[{\"name\":\"output\"}]}",
      "{\"inputs\":[{\"name\":\"in\\u0070ut\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}",
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}],\"parameters\":{}}",
      "{\"inputs\":[{\"name\":\"input\",\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}",
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,12345678901234567890]}]}",
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]} x",
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4,]}]}",
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[01,2,3,4]}]}",
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[[1,2],[3]]}]}",
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,NaN,3,4]}]}",
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]",
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,\"4\"]}]}",
      "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,-4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}",
      "{\"id\":\"r\"}",
  })
  void declinesEverythingElseAndJacksonSaysTheSame(String body) {
    assertThat(readDirectly(body, FP32)).as("read directly").isFalse();
    assertThat(outcome(body, FP32, true)).isEqualTo(outcome(body, FP32, false));
  }

  @Test
  void refusesWhatTheModelCannotTakeWithJacksonsWords() {
    for (String body : List.of(
        "{\"inputs\":[{\"name\":\"pixels\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"INT64\",\"data\":[1,2,3,4]}]}",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,1e39,3,4]}]}",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}",
        "{\"inputs\":[{\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\"}]}")) {
      assertThat(outcome(body, FP32, true)).as(body).startsWith("400").isEqualTo(outcome(body, FP32, false));
    }
  }

  /** Real numbers in every way a client writes them, read as FP64: bit for bit what Double.parseDouble gives. */
  @Test
  void realNumbersAreCorrectlyRounded() {
    Random random = new Random(14);
    List<String> numbers = new ArrayList<>(List.of("0.1", "0.2", "0.30000000000000004", "1e22", "1e23", "9007199254740993",
        "9007199254740993.0", "4.9e-324", "2.4703282292062327e-324", "1.7976931348623157e308", "1e-400", "-0.0",
        "123456789012345678.5", "0.000000000000000000000000001", "2.2250738585072011e-308", "1E+2", "5e-1"));
    for (int i = 0; i < 20_000; i++) {
      numbers.add(switch (i % 6) {
        case 0 -> Double.toString(random.nextGaussian());
        case 1 -> String.format(Locale.ROOT, "%.6f", random.nextGaussian() * 10);
        case 2 -> Float.toString((float) (random.nextGaussian() * Math.pow(10, random.nextInt(40) - 20)));
        case 3 -> String.format(Locale.ROOT, "%." + random.nextInt(20) + "e", random.nextDouble() * 1e5);
        case 4 -> Double.toString(Double.longBitsToDouble(random.nextLong() & 0x7fefffffffffffffL));
        default -> digits(random) + "." + digits(random) + (random.nextBoolean() ? "e" + (random.nextInt(60) - 30) : "");
      });
    }
    StringBuilder data = new StringBuilder();
    for (String number : numbers) {
      data.append(data.length() == 0 ? "" : ",").append(number.replace("Infinity", "1"));
    }
    String body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1," + numbers.size() + "],\"datatype\":\"FP64\",\"data\":["
        + data + "]}]}";
    assertThat(readDirectly(body, FP64)).as("read directly").isTrue();
    ByteBuffer direct = V2Codec.decodeInfer(bytes(body), -1, FP64, true).request().inputs().get(0).data();
    for (int i = 0; i < numbers.size(); i++) {
      double expected = Double.parseDouble(numbers.get(i).replace("Infinity", "1"));
      assertThat(Double.doubleToRawLongBits(direct.getDouble(i * 8))).as(numbers.get(i))
          .isEqualTo(Double.doubleToRawLongBits(expected));
    }
    assertThat(outcome(body, FP64, true)).isEqualTo(outcome(body, FP64, false));
  }

  private static String digits(Random random) {
    StringBuilder digits = new StringBuilder().append(1 + random.nextInt(9));
    for (int n = random.nextInt(25); n > 0; n--) {
      digits.append(random.nextInt(10));
    }
    return digits.toString();
  }

  /** Bodies broken in every small way: whatever the direct reader makes of one, a client gets Jackson's answer. */
  @Test
  void mutatedBodiesGetTheSameAnswerEitherWay() {
    Random random = new Random(2026);
    String[] seeds = {
        "{\"id\":\"a\",\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[0.5,-1.25e1,3,4E-3]}]}",
        "{\"inputs\":[{\"name\":\"input\",\"shape\":[2,4],\"datatype\":\"FP32\",\"data\":[[1,2,3,4],[5,6,7,8]]}]}",
        "{\"inputs\":[{\"datatype\":\"FP32\",\"data\":[true,false,1,0],\"shape\":[1,4],\"name\":\"input\"}]}",
    };
    String alphabet = "{}[],:\" \\-+.eE0123456789truefalsnNI\n\u00e9";
    int read = 0;
    for (int i = 0; i < 30_000; i++) {
      StringBuilder body = new StringBuilder(seeds[i % seeds.length]);
      for (int edits = 1 + random.nextInt(3); edits > 0; edits--) {
        int at = random.nextInt(body.length() + 1);
        switch (random.nextInt(4)) {
          case 0 -> body.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
          case 1 -> body.deleteCharAt(Math.min(at, body.length() - 1));
          case 2 -> body.setCharAt(Math.min(at, body.length() - 1), alphabet.charAt(random.nextInt(alphabet.length())));
          default -> body.setLength(at);
        }
        if (body.length() == 0) {
          body.append('{');
        }
      }
      String text = body.toString();
      if (readDirectly(text, FP32)) {
        read++;
      }
      assertThat(outcome(text, FP32, true)).as(text).isEqualTo(outcome(text, FP32, false));
    }
    assertThat(read).as("mutated bodies the direct reader still took").isGreaterThan(1_000);
  }

  /** Whether the direct reader took the body (and then answered or refused it) rather than declining it. */
  private static boolean readDirectly(String body, Signature signature) {
    try {
      return DirectInferReader.read(bytes(body), bytes(body).length, signature) != null;
    } catch (ApiError e) {
      return true;
    }
  }

  private static byte[] bytes(String body) {
    return body.getBytes(StandardCharsets.UTF_8);
  }

  /** What a client would be told: the request's tensors, bit for bit, or the refusal's status and message. */
  private static String outcome(String body, Signature signature, boolean direct) {
    try {
      V2Codec.Decoded decoded = V2Codec.decodeInfer(bytes(body), -1, signature, direct);
      StringBuilder out = new StringBuilder("ok id=").append(decoded.request().id());
      for (Tensor tensor : decoded.request().inputs()) {
        ByteBuffer data = tensor.data().duplicate();
        byte[] raw = new byte[data.remaining()];
        data.get(raw);
        out.append(' ').append(tensor.name()).append(' ').append(tensor.datatype())
            .append(java.util.Arrays.toString(tensor.shape())).append(' ').append(HexFormat.of().formatHex(raw));
      }
      return out.append(" outputs=").append(decoded.request().requestedOutputs())
          .append(" encoding=").append(decoded.outputs()).toString();
    } catch (ApiError e) {
      return e.status() + " " + e.getMessage();
    }
  }
}
