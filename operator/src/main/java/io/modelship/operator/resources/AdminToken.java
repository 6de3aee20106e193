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
}
