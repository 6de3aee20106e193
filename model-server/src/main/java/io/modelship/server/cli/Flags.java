package io.modelship.server.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The options of one role, each also read from an environment variable (the pod contract sets variables, people
 * type flags): a flag wins over its variable, a variable over the default. Shared by fetch and serve so both
 * parse and explain their options the same way. It resolves text only; what a value means is the role's business.
 */
public final class Flags {
  /** One option: its flag, its variable, its default (null: none), and what it means in --help. */
  public record Option(String flag, String variable, String defaultValue, String meaning) {}

  private Flags() {}

  public static boolean wantsHelp(String[] args) {
    for (String arg : args) {
      if (arg.equals("--help") || arg.equals("-h")) {
        return true;
      }
    }
    return false;
  }

  /**
   * Each option's value, stripped; options with neither a value nor a default are absent. Accepts
   * {@code --flag value} and {@code --flag=value}; a blank value counts as not given.
   *
   * @throws IllegalArgumentException naming an unknown option, or an option given without a value
   */
  public static Map<String, String> resolve(List<Option> options, String[] args, Map<String, String> env) {
    Map<String, String> given = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      String value = null;
      int equals = flag.indexOf('=');
      if (flag.startsWith("--") && equals > 0) {
        value = flag.substring(equals + 1);
        flag = flag.substring(0, equals);
      }
      String name = flag;
      if (options.stream().noneMatch(o -> o.flag().equals(name))) {
        throw new IllegalArgumentException("unknown option " + flag);
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException("option " + flag + " needs a value");
        }
        value = args[++i];
      }
      given.put(flag, value);
    }
    Map<String, String> values = new LinkedHashMap<>();
    for (Option option : options) {
      String value = given.containsKey(option.flag()) ? given.get(option.flag()) : env.get(option.variable());
      if (value == null || value.isBlank()) {
        value = option.defaultValue();
      }
      if (value != null) {
        values.put(option.flag(), value.strip());
      }
    }
    return values;
  }

  /** The option lines of --help: flag, variable and meaning in aligned columns, the default under them. */
  public static String describe(List<Option> options) {
    int flagWidth = options.stream().mapToInt(o -> o.flag().length() + " VALUE".length()).max().orElse(0);
    int variableWidth = options.stream().mapToInt(o -> o.variable().length()).max().orElse(0);
    String line = "  %-" + flagWidth + "s  %-" + variableWidth + "s  %s%n";
    StringBuilder text = new StringBuilder();
    for (Option option : options) {
      text.append(String.format(line, option.flag() + " VALUE", option.variable(), option.meaning()));
      if (option.defaultValue() != null) {
        text.append(String.format(line, "", "", "default: " + option.defaultValue()));
      }
    }
    return text.toString();
  }
}
