package io.modelship.operator.api.spec;

import java.time.Duration;
import java.util.regex.Matcher;

/** Go-style durations as Kubernetes users write them: 500ms, 5s, 1m30s, 2h. */
public final class Durations {
  public static final String PATTERN = "^([0-9]+(ms|s|m|h))+$";
  private static final java.util.regex.Pattern PART = java.util.regex.Pattern.compile("([0-9]+)(ms|s|m|h)");

  private Durations() {}

  /** @return the duration, or {@code fallback} when the text is null */
  public static Duration parse(String text, Duration fallback) {
    if (text == null || text.isBlank()) {
      return fallback;
    }
    if (!text.matches(PATTERN)) {
      throw new IllegalArgumentException("not a duration like 500ms, 5s, 1m30s or 2h: '" + text + "'");
    }
    Duration total = Duration.ZERO;
    Matcher m = PART.matcher(text);
    while (m.find()) {
      long n = Long.parseLong(m.group(1));
      total = total.plus(switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        default -> Duration.ofHours(n);
      });
    }
    return total;
  }
}
