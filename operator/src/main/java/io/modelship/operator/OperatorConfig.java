package io.modelship.operator;

import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Settings of one operator process, read once from the environment at start-up. Nothing here is per
 * ModelDeployment: those settings live in the resource.
 *
 * @param leaseIdentity who this process is in the leader-election Lease: the pod name, so a person reading the
 *     Lease knows which pod leads, and a random suffix, so a container the kubelet restarted in the same pod is not
 *     taken for the process that held the Lease before it was killed
 * @param retryInitial first wait after a failed reconciliation; each further failure doubles it
 * @param retryMax the longest wait between two attempts of a reconciliation that keeps failing
 * @param maxReconcileInterval every ModelDeployment is reconciled at least this often, event or not
 * @param modelServerPort where the operator reaches model-server pods' /admin (the pod contract's port; tests run
 *     servers on free ports)
 * @param podLabels labels of the operator's own pods (MODELSHIP_OPERATOR_POD_LABELS, {@code k=v,k=v}, set by the
 *     chart), so the NetworkPolicy of each ModelDeployment can let the operator in; empty outside a cluster
 */
public record OperatorConfig(
    String modelServerImage,
    Set<String> watchNamespaces,
    int healthPort,
    boolean leaderElection,
    String leaseNamespace,
    String leaseIdentity,
    Duration rolloutPoll,
    Duration specRecheck,
    Duration retryInitial,
    Duration retryMax,
    Duration maxReconcileInterval,
    int modelServerPort,
    Map<String, String> podLabels) {

  /**
   * What the build names the model-server image (Jib: {@code modelship/model-server:<project version>}, pushed
   * under a registry prefix); the Helm chart passes its own value, with the registry, through the environment.
   */
  public static final String DEFAULT_MODEL_SERVER_IMAGE = "modelship/model-server:0.1.0-SNAPSHOT";

  // A failing reconciliation (an apiserver outage, a webhook down) is retried for as long as it fails, never
  // given up: java-operator-sdk's default gives up after 5 attempts and then waits for the next event, which
  // for a ModelDeployment nobody edits means never. The cap keeps an outage from turning into a retry storm.
  static final Duration DEFAULT_RETRY_INITIAL = Duration.ofSeconds(2);
  static final Duration DEFAULT_RETRY_MAX = Duration.ofMinutes(1);
  // Whatever was missed (an event lost in a watch restart, a Secret created that we do not watch), every
  // ModelDeployment is looked at again this often; a look that changes nothing writes nothing, so at 1,000
  // ModelDeployments this is ~3 cache-only reconciliations a second.
  static final Duration DEFAULT_MAX_RECONCILE_INTERVAL = Duration.ofMinutes(5);

  public static OperatorConfig fromEnvironment(Map<String, String> env) {
    String namespaces = env.getOrDefault("MODELSHIP_WATCH_NAMESPACES", "").trim();
    // In a pod, HOSTNAME is the pod name. A restarted container keeps it, so it alone would let a new process take
    // over the Lease of the killed one at once, as if it had held it all along.
    String host = env.getOrDefault("HOSTNAME", "").trim();
    String identity = (host.isEmpty() ? "modelship-operator" : host) + "_"
        + java.util.UUID.randomUUID().toString().substring(0, 8);
    return new OperatorConfig(
        env.getOrDefault("MODELSHIP_MODEL_SERVER_IMAGE", DEFAULT_MODEL_SERVER_IMAGE),
        namespaces.isEmpty()
            ? Set.of()
            : Arrays.stream(namespaces.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .collect(Collectors.toUnmodifiableSet()),
        port(env.getOrDefault("MODELSHIP_HEALTH_PORT", "8081")),
        Boolean.parseBoolean(env.getOrDefault("MODELSHIP_LEADER_ELECTION", "false")),
        env.getOrDefault("POD_NAMESPACE", "default"),
        identity.isEmpty() ? UUID.randomUUID().toString() : identity,
        Duration.ofMillis(Long.parseLong(env.getOrDefault("MODELSHIP_ROLLOUT_POLL_MS", "5000"))),
        // An invalid spec may be fixed by creating a Secret, which is not watched: look again this often.
        Duration.ofMillis(Long.parseLong(env.getOrDefault("MODELSHIP_SPEC_RECHECK_MS", "30000"))),
        DEFAULT_RETRY_INITIAL,
        DEFAULT_RETRY_MAX,
        DEFAULT_MAX_RECONCILE_INTERVAL,
        io.modelship.operator.revision.PodContract.HTTP_PORT,
        labels(env.getOrDefault("MODELSHIP_OPERATOR_POD_LABELS", "")));
  }

  /** {@code k=v,k=v} as a map; a malformed entry is refused at start-up, not guessed at. */
  static Map<String, String> labels(String value) {
    Map<String, String> labels = new java.util.LinkedHashMap<>();
    for (String entry : value.split(",")) {
      if (entry.isBlank()) {
        continue;
      }
      int eq = entry.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("MODELSHIP_OPERATOR_POD_LABELS must be k=v,k=v, not '" + value + "'");
      }
      labels.put(entry.substring(0, eq).trim(), entry.substring(eq + 1).trim());
    }
    return Map.copyOf(labels);
  }

  private static int port(String value) {
    try {
      int port = Integer.parseInt(value.trim());
      if (port >= 0 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("MODELSHIP_HEALTH_PORT must be a port number (0-65535), not '" + value + "'");
  }

  /**
   * The same settings, looking again without an event at most this far apart, for rollouts and invalid specs alike
   * (tests move a clock and poll fast).
   */
  public OperatorConfig withPolling(Duration poll) {
    return new OperatorConfig(modelServerImage, watchNamespaces, healthPort, leaderElection, leaseNamespace,
        leaseIdentity, poll, poll, retryInitial, retryMax, maxReconcileInterval, modelServerPort, podLabels);
  }

  /** The same settings, retrying a failed reconciliation after {@code initial}, doubling up to {@code max}. */
  public OperatorConfig withRetry(Duration initial, Duration max) {
    return new OperatorConfig(modelServerImage, watchNamespaces, healthPort, leaderElection, leaseNamespace,
        leaseIdentity, rolloutPoll, specRecheck, initial, max, maxReconcileInterval, modelServerPort, podLabels);
  }

  /** The same settings, taking part in leader election through the Lease in {@code namespace} as {@code identity}. */
  public OperatorConfig withLeaderElection(String namespace, String identity) {
    return new OperatorConfig(modelServerImage, watchNamespaces, healthPort, true, namespace,
        identity, rolloutPoll, specRecheck, retryInitial, retryMax, maxReconcileInterval, modelServerPort, podLabels);
  }

  /** The same settings, reaching model-server pods on {@code port} (tests run servers on free ports). */
  public OperatorConfig withModelServerPort(int port) {
    return new OperatorConfig(modelServerImage, watchNamespaces, healthPort, leaderElection, leaseNamespace,
        leaseIdentity, rolloutPoll, specRecheck, retryInitial, retryMax, maxReconcileInterval, port, podLabels);
  }

  /** Settings for tests and tools: the default image, every namespace, no leader election. */
  public static OperatorConfig defaults() {
    return fromEnvironment(Map.of());
  }
}
