package io.modelship.operator.reconciler;

import io.fabric8.kubernetes.api.model.Secret;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.GpuSpec;
import io.modelship.operator.api.spec.ModelDeploymentSpec;
import io.modelship.operator.api.spec.ModelSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * Checks what the CRD schema cannot: references to other objects and combinations of fields. It returns
 * messages a user can act on and never throws; the reconciler turns them into a condition and an Event.
 * It never reads or returns a secret's values, only whether the keys exist.
 */
public final class SpecValidator {
  /** A Service name is a DNS label of at most 63 characters and gets "-" plus the revision hash. */
  static final int MAX_NAME_LENGTH = 63 - 1 - 10;

  private final BiFunction<String, String, Optional<Secret>> secrets;

  /** @param secrets looks a Secret up by namespace and name */
  public SpecValidator(BiFunction<String, String, Optional<Secret>> secrets) {
    this.secrets = secrets;
  }

  public List<String> validate(ModelDeployment mdep) {
    List<String> problems = new ArrayList<>();
    String name = mdep.getMetadata().getName();
    if (name.length() > MAX_NAME_LENGTH) {
      problems.add(
          "metadata.name '%s' is %d characters; use at most %d, because revision objects are named <name>-<10-character revision>"
              .formatted(name, name.length(), MAX_NAME_LENGTH));
    }
    ModelDeploymentSpec spec = mdep.getSpec();
    if (spec == null || spec.getModel() == null || spec.getModel().getSource() == null) {
      problems.add("spec.model.source is required: set spec.model.source.s3 or spec.model.source.mlflow");
      return problems;
    }
    ModelSource source = spec.getModel().getSource();
    if ((source.getS3() == null) == (source.getMlflow() == null)) {
      problems.add("spec.model.source: set exactly one of s3 or mlflow");
    }
    if (source.getMlflow() != null
        && (source.getMlflow().getAlias() == null) == (source.getMlflow().getVersion() == null)) {
      problems.add("spec.model.source.mlflow: set exactly one of alias or version");
    }
    String ns = mdep.getMetadata().getNamespace();
    if (source.getS3() != null && source.getS3().getCredentialsSecret() != null) {
      checkSecret(ns, source.getS3().getCredentialsSecret(), "spec.model.source.s3.credentialsSecret",
          List.of("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), problems);
    }
    if (source.getMlflow() != null && source.getMlflow().getCredentialsSecret() != null) {
      checkMlflowSecret(ns, source.getMlflow().getCredentialsSecret(), problems);
    }
    if (spec.getServer() != null && spec.getServer().getApiKeySecret() != null) {
      checkSecret(ns, spec.getServer().getApiKeySecret(), "spec.server.apiKeySecret", List.of("api-key"), problems);
    }
    GpuSpec gpu = spec.getResources() != null ? spec.getResources().getGpu() : null;
    if (gpu != null && gpu.getCount() == null) {
      String what = gpu.getMigProfile() != null ? "migProfile '" + gpu.getMigProfile() + "'"
          : gpu.getType() != null ? "type '" + gpu.getType() + "'" : "gpu";
      problems.add("spec.resources.gpu.count is required when gpu is set (found " + what
          + " without a count): set spec.resources.gpu.count, e.g. 1");
    }
    return problems;
  }

  private void checkSecret(String ns, String name, String field, List<String> keys, List<String> problems) {
    Optional<Secret> secret = secrets.apply(ns, name);
    if (secret.isEmpty()) {
      problems.add("Secret '%s' named in %s does not exist in namespace '%s': create it with key(s) %s"
          .formatted(name, field, ns, String.join(", ", keys)));
      return;
    }
    List<String> missing = keys.stream().filter(k -> !hasKey(secret.get(), k)).toList();
    if (!missing.isEmpty()) {
      problems.add("Secret '%s' named in %s has no key(s) %s".formatted(name, field, String.join(", ", missing)));
    }
  }

  private void checkMlflowSecret(String ns, String name, List<String> problems) {
    String field = "spec.model.source.mlflow.credentialsSecret";
    Optional<Secret> secret = secrets.apply(ns, name);
    if (secret.isEmpty()) {
      problems.add("Secret '%s' named in %s does not exist in namespace '%s': create it with key MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
          .formatted(name, field, ns));
      return;
    }
    boolean token = hasKey(secret.get(), "MLFLOW_TRACKING_TOKEN");
    boolean basic = hasKey(secret.get(), "MLFLOW_TRACKING_USERNAME") && hasKey(secret.get(), "MLFLOW_TRACKING_PASSWORD");
    if (!token && !basic) {
      problems.add("Secret '%s' named in %s needs key MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
          .formatted(name, field));
    }
  }

  private static boolean hasKey(Secret secret, String key) {
    return contains(secret.getData(), key) || contains(secret.getStringData(), key);
  }

  private static boolean contains(Map<String, String> map, String key) {
    return map != null && map.containsKey(key);
  }
}
