package io.modelship.operator.reconciler;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.Durations;
import io.modelship.operator.api.spec.GpuSpec;
import io.modelship.operator.api.spec.ModelDeploymentSpec;
import io.modelship.operator.api.spec.ModelSource;
import io.modelship.operator.rollout.RolloutSettings;
import io.modelship.operator.source.SourceTracker;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Checks what the CRD schema cannot: references to other objects and combinations of fields. It returns
 * messages a user can act on and never throws; the reconciler turns them into a condition and an Event.
 * It never reads or returns a secret's values, only whether the keys exist.
 */
public final class SpecValidator {
  /** A Service name is a DNS label of at most 63 characters and gets "-" plus the revision hash. */
  static final int MAX_NAME_LENGTH = 63 - 1 - 10;
  static final String HTTPROUTE_CRD = "httproutes.gateway.networking.k8s.io";
  /** Kubernetes' own quantity grammar (resource.Quantity): a signed decimal, then a suffix. */
  private static final java.util.regex.Pattern QUANTITY =
      java.util.regex.Pattern.compile("^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?[0-9]+))?$");
  private static final java.time.Duration MIN_INTERVAL = java.time.Duration.ofSeconds(1);

  private final BiFunction<String, String, Optional<Secret>> secrets;

  /** @param secrets looks a Secret up by namespace and name */
  public SpecValidator(BiFunction<String, String, Optional<Secret>> secrets) {
    this.secrets = secrets;
  }

  /**
   * @param gatewayApiServed whether the cluster served Gateway API's HTTPRoute kind when the operator started
   * @param reservedEnv the variables the operator itself sets on the model-server container for this spec
   */
  public List<String> validate(ModelDeployment mdep, boolean gatewayApiServed, Set<String> reservedEnv) {
    List<String> problems = validate(mdep);
    ModelDeploymentSpec spec = mdep.getSpec();
    if (spec == null) {
      return problems;
    }
    if (RolloutSettings.gatewayApiOf(spec).isPresent() && !gatewayApiServed) {
      problems.add("spec.rollout.traffic.gatewayAPI: this cluster served no HTTPRoute kind (" + HTTPROUTE_CRD
          + ") when the operator started; install Gateway API and restart the operator, or use traffic.service");
    }
    if (spec.getRollout() != null && RolloutSettings.IN_PLACE.equals(spec.getRollout().getStrategy())) {
      if (RolloutSettings.gatewayApiOf(spec).isPresent()) {
        problems.add("spec.rollout.strategy inPlace splits traffic inside each pod, and traffic.gatewayAPI between"
            + " pods: use one of them");
      }
      if (RolloutSettings.shadowOf(spec).isPresent()) {
        problems.add("spec.rollout.strategy inPlace has no shadow traffic yet (spec.rollout.shadow, a shadow step or"
            + " a predictionAgreement gate): judge an in-place canary on errors and latency, or use strategy canary");
      }
    }
    Double share = spec.getRollout() == null || spec.getRollout().getShadow() == null ? null
        : spec.getRollout().getShadow().getShare();
    if (share != null && !(share >= 0.01 && share <= 1)) {
      // The schema says 0.01 to 1, but the API server compares an integer with an integer minimum: 0.01 becomes 0,
      // and `share: 0` gets through (measured on the real cluster).
      problems.add("spec.rollout.shadow.share %s: mirror between 0.01 and 1 of the stable pods' requests, e.g. 0.2"
          .formatted(share));
    }
    if (spec.getResources() != null) {
      checkQuantity(spec.getResources().getCpu(), "spec.resources.cpu", "2 or 500m", problems);
      checkQuantity(spec.getResources().getMemory(), "spec.resources.memory", "4Gi or 512Mi", problems);
    }
    if (spec.getServer() != null && spec.getServer().getEnv() != null) {
      checkEnv(spec.getServer().getEnv(), reservedEnv, problems);
    }
    if (spec.getRollout() != null && spec.getRollout().getAnalysis() != null) {
      checkInterval(spec.getRollout().getAnalysis().getInterval(), problems);
    }
    checkTracking(spec, problems);
    return problems;
  }

  /** A registry is read once per interval per ModelDeployment: more often than every 10 s is not polite to it. */
  private static void checkTracking(ModelDeploymentSpec spec, List<String> problems) {
    var source = spec.getModel() != null ? spec.getModel().getSource() : null;
    if (source == null || source.getTracking() == null || source.getTracking().getInterval() == null) {
      return;
    }
    String interval = source.getTracking().getInterval();
    if (Durations.parse(interval, null).compareTo(SourceTracker.MIN_INTERVAL) < 0) {
      problems.add("spec.model.source.tracking.interval: %s reads the registry too often; use at least %ds"
          .formatted(interval, SourceTracker.MIN_INTERVAL.toSeconds()));
    }
    boolean alias = source.getMlflow() != null && source.getMlflow().getAlias() != null;
    boolean latest = source.getS3() != null && "latest".equals(source.getS3().getVersion());
    if (!alias && !latest) {
      problems.add("spec.model.source.tracking: only a moving source is tracked (mlflow.alias, or s3 with "
          + "version: latest); remove tracking, or name an alias instead of a fixed version");
    }
  }

  /** What the CRD cannot see: a quantity is any string to it, but the API server refuses to apply "lots". */
  private static void checkQuantity(Quantity quantity, String field, String example, List<String> problems) {
    if (quantity == null) {
      return;
    }
    String text = quantity.toString();
    try {
      if (!QUANTITY.matcher(text).matches() || Quantity.getAmountInBytes(quantity).signum() < 0) {
        throw new NumberFormatException(text);
      }
    } catch (RuntimeException e) {
      problems.add("%s '%s' is not a Kubernetes quantity: write it like %s".formatted(field, abbreviate(text), example));
    }
  }

  private static void checkEnv(List<EnvVar> env, Set<String> reserved, List<String> problems) {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < env.size(); i++) {
      String name = env.get(i).getName();
      if (name == null || name.isBlank()) {
        problems.add("spec.server.env[%d] has no name".formatted(i));
      } else if (reserved.contains(name)) {
        problems.add(("spec.server.env[%d] sets %s, which the operator sets itself (see docs/pod-contract.md): remove"
            + " it; the model server's settings come from spec.server").formatted(i, name));
      } else if (!seen.add(name)) {
        problems.add("spec.server.env names %s more than once: keep one".formatted(name));
      }
    }
  }

  /** The CRD refuses intervals under 1s too, but a CRD installed before that rule would not. */
  private static void checkInterval(String interval, List<String> problems) {
    try {
      if (interval != null && Durations.parse(interval, null).compareTo(MIN_INTERVAL) < 0) {
        problems.add(("spec.rollout.analysis.interval %s is under 1s: every evaluation scrapes every canary pod and"
            + " writes status, so that is a hot loop; use 5s or more").formatted(interval));
      }
    } catch (IllegalArgumentException e) {
      problems.add("spec.rollout.analysis.interval: " + e.getMessage());
    }
  }

  private static String abbreviate(String text) {
    return text.length() > 40 ? text.substring(0, 40) + "…" : text;
  }

  /** Only the spec's own fields and referenced Secrets; what needs the cluster's state is in the other overload. */
  List<String> validate(ModelDeployment mdep) {
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
