package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.modelship.operator.api.ModelDeployment;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;

/**
 * The token the operator presents on a model server's {@code /admin} endpoints (shadow traffic, versions in place),
 * one per ModelDeployment, in a Secret the operator creates once and never rotates while pods use it. Every
 * model-server pod mounts it, so a pod takes orders only from whoever can read that Secret.
 */
public final class AdminToken {
  public static final String KEY = "token";
  public static final String DIR = "/etc/modelship/admin";
  public static final String ENV = "MODELSHIP_ADMIN_TOKEN_FILE";
  static final String VOLUME = "admin-token";
  private static final SecureRandom RANDOM = new SecureRandom();

  private AdminToken() {}

  public static String secretName(ModelDeployment mdep) {
    return mdep.getMetadata().getName() + "-modelship-admin";
  }

  /** A new Secret with a fresh random token: created only where none exists. */
  public static Secret fresh(ModelDeployment mdep) {
    byte[] token = new byte[32];
    RANDOM.nextBytes(token);
    return new SecretBuilder()
        .withNewMetadata()
        .withName(secretName(mdep))
        .withNamespace(mdep.getMetadata().getNamespace())
        .withLabels(Labels.forDeployment(mdep))
        .withOwnerReferences(Labels.ownerReference(mdep))
        .endMetadata()
        .withType("Opaque")
        .withStringData(Map.of(KEY, HexFormat.of().formatHex(token)))
        .build();
  }

  /**
   * The tokens the operator presents, read once per ModelDeployment from their Secret and kept: by the
   * ModelDeployment's uid, so one deleted and created again under its name gets its new Secret's token.
   */
  public static final class Reader {
    private final java.util.Map<String, String> tokens = new java.util.concurrent.ConcurrentHashMap<>();

    public java.util.Optional<String> token(io.fabric8.kubernetes.client.KubernetesClient client, ModelDeployment mdep) {
      String key = mdep.getMetadata().getUid() + "/" + secretName(mdep);
      String cached = tokens.get(key);
      if (cached != null) {
        return java.util.Optional.of(cached);
      }
      Secret secret = client.secrets().inNamespace(mdep.getMetadata().getNamespace()).withName(secretName(mdep)).get();
      java.util.Optional<String> value = secret == null ? java.util.Optional.empty()
          : io.modelship.operator.source.SecretValues.value(secret, KEY);
      value.ifPresent(v -> tokens.put(key, v));
      return value;
    }
  }
}
