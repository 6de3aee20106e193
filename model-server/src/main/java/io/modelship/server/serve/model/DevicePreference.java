package io.modelship.server.serve.model;

import java.util.Locale;
import java.util.Optional;

/** The operator's wish for where the model runs: {@code auto} picks CUDA when it can, else the CPU. */
public enum DevicePreference {
  AUTO,
  CPU,
  GPU;

  public static Optional<DevicePreference> parse(String value) {
    for (DevicePreference preference : values()) {
      if (preference.name().equals(value.toUpperCase(Locale.ROOT))) {
        return Optional.of(preference);
      }
    }
    return Optional.empty();
  }
}
