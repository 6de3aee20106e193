package io.modelship.server.serve.http;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Says what is wrong with a request body that is not valid JSON, in the words of the request: where it broke
 * (line and column) and what was found there. The parser's own messages name its settings and classes, which
 * mean nothing to a client and must not reach it.
 */
final class JsonProblems {
  private static final Pattern UNEXPECTED_CHARACTER = Pattern.compile("Unexpected character \\('(.)'");
  private static final Pattern NON_STANDARD = Pattern.compile("Non-standard token '([^']*)'");
  private static final Pattern UNRECOGNIZED = Pattern.compile("Unrecognized token '([^']{0,40})");

  private JsonProblems() {}

  static String describe(JsonProcessingException e) {
    return "malformed JSON" + where(e.getLocation()) + ": " + what(e);
  }

  private static String what(JsonProcessingException e) {
    String original = e.getOriginalMessage() == null ? "" : e.getOriginalMessage();
    if (e instanceof StreamConstraintsException) {
      if (original.contains("nesting depth")) {
        return "nested more than 64 levels deep";
      }
      if (original.contains("Number value length") || original.contains("Number length")) {
        return "a number has too many digits";
      }
      return "the document is too large to read";
    }
    Matcher nonStandard = NON_STANDARD.matcher(original);
    if (nonStandard.find() || original.contains("NaN") || original.contains("Infinity")) {
      return "NaN and Infinity are not numbers in JSON; send finite numbers"
          + " (the binary tensor extension carries any IEEE value)";
    }
    if (original.startsWith("Unexpected end-of-input")) {
      return "the body ends before the JSON is complete";
    }
    Matcher unexpected = UNEXPECTED_CHARACTER.matcher(original);
    if (unexpected.find()) {
      return "unexpected character '" + printable(unexpected.group(1)) + "'";
    }
    Matcher unrecognized = UNRECOGNIZED.matcher(original);
    if (unrecognized.find()) {
      return "unexpected word '" + printable(unrecognized.group(1)) + "'";
    }
    if (original.contains("Invalid numeric value") || original.contains("Leading zeroes")) {
      return "a number is not written the way JSON writes numbers";
    }
    if (original.contains("Illegal unquoted character") || original.contains("Unexpected end-of-input in")) {
      return "a string is not closed or holds a raw control character";
    }
    if (original.contains("Invalid UTF-8")) {
      return "the body is not UTF-8 text";
    }
    return "not valid JSON";
  }

  private static String where(JsonLocation location) {
    if (location == null || location.getLineNr() < 1) {
      return "";
    }
    return " at line " + location.getLineNr() + ", column " + location.getColumnNr();
  }

  private static String printable(String text) {
    StringBuilder shown = new StringBuilder();
    for (char c : text.toCharArray()) {
      shown.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
    }
    return shown.toString();
  }
}
