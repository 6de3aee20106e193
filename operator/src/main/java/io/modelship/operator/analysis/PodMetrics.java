package io.modelship.operator.analysis;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.modelship.operator.revision.PodContract;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads one model-server pod's {@code /metrics} text. An implementation answers within a few seconds and never
 * throws: a pod that cannot be read (no IP yet, refused, slow, not 200) is {@link Optional#empty()}, and the
 * analysis counts it as unreachable for that window.
 */
public interface PodMetrics {
  /** Chooses how to reach pods: {@code direct} or {@code proxy}. */
  String ACCESS_ENV = "MODELSHIP_METRICS_ACCESS";

  Optional<String> scrape(Pod pod);

  /** As {@link #forEnvironment(Map, KubernetesClient)} with this process's environment. */
  static PodMetrics forEnvironment(KubernetesClient client) {
    return forEnvironment(System.getenv(), client);
  }

  /**
   * {@code MODELSHIP_METRICS_ACCESS=direct|proxy} when set; otherwise direct inside a cluster (pod IPs are
   * routable there) and through the apiserver's pod proxy outside one (a laptop cannot reach pod IPs).
   *
   * @throws IllegalArgumentException for any other value, so a typo fails at start-up rather than every window
   */
  static PodMetrics forEnvironment(Map<String, String> env, KubernetesClient client) {
    String access = env.getOrDefault(ACCESS_ENV, "").strip();
    if (access.isEmpty()) {
      access = env.containsKey("KUBERNETES_SERVICE_HOST") ? "direct" : "proxy";
    }
    return switch (access) {
      case "direct" -> new DirectPodMetrics();
      case "proxy" -> new ApiServerProxyPodMetrics(client);
      default -> throw new IllegalArgumentException(
          ACCESS_ENV + " must be direct or proxy, not '" + access + "'");
    };
  }

  /** The model server's port: the container port named http, preferring the model-server container. */
  static int httpPort(Pod pod) {
    List<Container> containers = pod.getSpec() == null ? List.of() : pod.getSpec().getContainers();
    Optional<Integer> serving = containers.stream()
        .filter(c -> PodContract.SERVE_CONTAINER.equals(c.getName()))
        .findFirst()
        .flatMap(PodMetrics::namedHttpPort);
    return serving
        .or(() -> containers.stream().map(PodMetrics::namedHttpPort).flatMap(Optional::stream).findFirst())
        .orElse(PodContract.HTTP_PORT);
  }

  private static Optional<Integer> namedHttpPort(Container container) {
    if (container.getPorts() == null) {
      return Optional.empty();
    }
    return container.getPorts().stream()
        .filter(p -> PodContract.HTTP_PORT_NAME.equals(p.getName()) && p.getContainerPort() != null)
        .map(ContainerPort::getContainerPort)
        .findFirst();
  }
}
