package io.modelship.operator.analysis;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads the Prometheus text exposition format 0.0.4 into samples. It is strict: a line it cannot read fails the
 * whole text with the line's number, because a half-read scrape would silently shift a canary's error rate.
 * It keeps no state and knows nothing about which metrics matter.
 */
public final class PrometheusText {
  /** Java's parser also takes "Infinity", "1d", hex floats; Prometheus does not, so neither do we. */
  private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

  private PrometheusText() {}

  /** One line of a scrape: a metric name, its labels (in the order written) and a value that may be NaN or ±Inf. */
  public record Sample(String name, Map<String, String> labels, double value) {
    public String label(String key) {
      return labels.get(key);
    }
  }

  /** @throws IllegalArgumentException naming the first line that is not valid exposition format */
  public static List<Sample> parse(String text) {
    List<Sample> samples = new ArrayList<>();
    int lineNumber = 0;
    for (String line : text.split("\n", -1)) {
      lineNumber++;
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("#")) {
        continue;
      }
      try {
        samples.add(new LineReader(trimmed).sample());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("line " + lineNumber + ": " + e.getMessage(), e);
      }
    }
    return samples;
  }

  /** The value grammar Prometheus accepts: decimals with exponents, and NaN / Inf / +Inf / -Inf in any case. */
  static double parseValue(String token) {
    String unsigned = token.startsWith("+") || token.startsWith("-") ? token.substring(1) : token;
    if (unsigned.equalsIgnoreCase("inf")) {
      return token.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }
    if (token.equalsIgnoreCase("nan")) {
      return Double.NaN;
    }
    if (!DECIMAL.matcher(token).matches()) {
      throw new IllegalArgumentException("not a number: '" + token + "'");
    }
    return Double.parseDouble(token);
  }

  private static final class LineReader {
    private final String line;
    private int pos;

    LineReader(String line) {
      this.line = line;
    }

    Sample sample() {
      String name = name(true);
      Map<String, String> labels = Map.of();
      skipBlanks();
      if (peek() == '{') {
        pos++;
        labels = labels();
      }
      skipBlanks();
      String value = token();
      if (value.isEmpty()) {
        throw new IllegalArgumentException("no value for " + name);
      }
      skipBlanks();
      String timestamp = token();
      if (!timestamp.isEmpty() && !timestamp.matches("-?\\d+")) {
        throw new IllegalArgumentException("not a timestamp: '" + timestamp + "'");
      }
      skipBlanks();
      if (pos < line.length()) {
        throw new IllegalArgumentException("unexpected text after the value: '" + line.substring(pos) + "'");
      }
      return new Sample(name, labels, parseValue(value));
    }

    private Map<String, String> labels() {
      Map<String, String> labels = new LinkedHashMap<>();
      while (true) {
        skipBlanks();
        if (peek() == '}') {
          pos++;
          return Collections.unmodifiableMap(labels);
        }
        String key = name(false);
        skipBlanks();
        expect('=');
        skipBlanks();
        expect('"');
        labels.put(key, quoted());
        skipBlanks();
        char next = peek();
        if (next == ',') {
          pos++;
        } else if (next != '}') {
          throw new IllegalArgumentException("expected ',' or '}' at column " + (pos + 1));
        }
      }
    }

    /** A label value after its opening quote; only \\, \" and \n are escapes, as in Prometheus's own parser. */
    private String quoted() {
      StringBuilder value = new StringBuilder();
      while (pos < line.length()) {
        char c = line.charAt(pos++);
        if (c == '"') {
          return value.toString();
        }
        if (c == '\\' && pos < line.length()) {
          char escaped = line.charAt(pos++);
          switch (escaped) {
            case '\\' -> value.append('\\');
            case '"' -> value.append('"');
            case 'n' -> value.append('\n');
            default -> value.append('\\').append(escaped);
          }
        } else {
          value.append(c);
        }
      }
      throw new IllegalArgumentException("label value never closed");
    }

    private String name(boolean metric) {
      int start = pos;
      while (pos < line.length()) {
        char c = line.charAt(pos);
        boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
        boolean digit = c >= '0' && c <= '9';
        if (!(letter || (digit && pos > start))) {
          break;
        }
        pos++;
      }
      if (pos == start) {
        throw new IllegalArgumentException((metric ? "metric" : "label") + " name expected at column " + (pos + 1));
      }
      return line.substring(start, pos);
    }

    private String token() {
      int start = pos;
      while (pos < line.length() && line.charAt(pos) != ' ' && line.charAt(pos) != '\t') {
        pos++;
      }
      return line.substring(start, pos);
    }

    private void skipBlanks() {
      while (pos < line.length() && (line.charAt(pos) == ' ' || line.charAt(pos) == '\t')) {
        pos++;
      }
    }

    private char peek() {
      return pos < line.length() ? line.charAt(pos) : '\0';
    }

    private void expect(char c) {
      if (peek() != c) {
        throw new IllegalArgumentException("expected '" + c + "' at column " + (pos + 1));
      }
      pos++;
    }
  }
}
