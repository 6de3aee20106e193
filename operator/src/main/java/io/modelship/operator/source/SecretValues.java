package io.modelship.operator.source;

import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/** One key of a Secret as text, from data (base64) or stringData (an object not yet through the API server). */
public final class SecretValues {
  private SecretValues() {}

  public static Optional<String> value(Secret secret, String key) {
    if (secret.getData() != null && secret.getData().get(key) != null) {
      return Optional.of(new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8).strip());
    }
    return secret.getStringData() != null
        ? Optional.ofNullable(secret.getStringData().get(key)).map(String::strip)
        : Optional.empty();
  }

  /**
   * {@code text} with every occurrence of a secret value replaced: for messages that carry words from elsewhere (an
   * error a registry or an endpoint sent back), which may repeat the credentials a request carried.
   */
  public static String redact(String text, java.util.Collection<String> secrets) {
    String redacted = text;
    for (String secret : secrets) {
      if (secret != null && secret.length() >= 4) {
        redacted = redacted.replace(secret, "[redacted]");
      }
    }
    return redacted;
  }
}
