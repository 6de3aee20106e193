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
}
