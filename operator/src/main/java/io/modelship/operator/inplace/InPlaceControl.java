package io.modelship.operator.inplace;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.resources.AdminToken;
import io.modelship.operator.revision.PodContract;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Talks to the model-server pods of an in-place rollout over {@code /admin/versions} (docs/pod-contract.md): reads
 * what each holds, and sends the placement to those that do not hold it yet. Every call carries the
 * ModelDeployment's admin token ({@link AdminToken}); calls to several pods run side by side under one deadline,
 * so a pass never waits long on a pod that does not answer. It never writes to the cluster.
 */
public final class InPlaceControl implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(InPlaceControl.class);
  private static final Duration ROUND = Duration.ofSeconds(3);

  /** What one pod said: its report, or why there is none. */
  public record Observation(Optional<PodReport> report, String problem) {
    static Observation of(PodReport report) {
      return new Observation(Optional.of(report), null);
    }

    static Observation missing(String problem) {
      return new Observation(Optional.empty(), problem);
    }
  }

  private final int port;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
  private final ExecutorService workers = Executors.newFixedThreadPool(4, r -> {
    Thread t = new Thread(r, "in-place-control");
    t.setDaemon(true);
    return t;
  });
  private final AdminToken.Reader tokens = new AdminToken.Reader();

  public InPlaceControl() {
    this(PodContract.HTTP_PORT);
  }

  /** @param port the model server's port on each pod (tests run servers on free ports) */
  public InPlaceControl(int port) {
    this.port = port;
  }

  /** What every running pod with an address holds, by pod name; pods not yet running are left out. */
  public Map<String, Observation> observe(KubernetesClient client, ModelDeployment mdep, List<Pod> pods) {
    Optional<String> token = token(client, mdep);
    Map<String, Observation> seen = new LinkedHashMap<>();
    if (token.isEmpty()) {
      pods.stream().filter(InPlaceControl::addressable)
          .forEach(p -> seen.put(p.getMetadata().getName(), Observation.missing("no admin token yet")));
      return seen;
    }
    Map<String, Future<Observation>> pending = new LinkedHashMap<>();
    for (Pod pod : pods) {
      if (addressable(pod)) {
        pending.put(pod.getMetadata().getName(), workers.submit(() -> get(pod, token.get())));
      }
    }
    collect(pending, seen);
    return seen;
  }

  /**
   * Sends {@code order} to every addressable pod whose observation does not show it acknowledged; returns the
   * pods told.
   */
  public List<String> push(KubernetesClient client, ModelDeployment mdep, List<Pod> pods,
      Map<String, Observation> observed, PlacementOrder order) {
    Optional<String> token = token(client, mdep);
    List<String> told = new ArrayList<>();
    if (token.isEmpty()) {
      return told;
    }
    Map<String, Future<Observation>> pending = new LinkedHashMap<>();
    for (Pod pod : pods) {
      String name = pod.getMetadata().getName();
      Observation seen = observed.get(name);
      boolean acknowledged = seen != null && seen.report().map(order::acknowledgedBy).orElse(false);
      if (addressable(pod) && !acknowledged) {
        pending.put(name, workers.submit(() -> put(pod, token.get(), order.json())));
        told.add(name);
      }
    }
    collect(pending, new LinkedHashMap<>());
    return told;
  }

  private void collect(Map<String, Future<Observation>> pending, Map<String, Observation> into) {
    long deadline = System.nanoTime() + ROUND.toNanos();
    pending.forEach((name, future) -> {
      try {
        into.put(name, future.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        future.cancel(true);
        into.put(name, Observation.missing("interrupted"));
      } catch (Exception e) {
        future.cancel(true);
        into.put(name, Observation.missing("no answer in " + ROUND.toSeconds() + " s"));
      }
    });
  }

  private Observation get(Pod pod, String token) {
    return call(pod, HttpRequest.newBuilder(uri(pod)).GET(), token);
  }

  private Observation put(Pod pod, String token, String body) {
    return call(pod, HttpRequest.newBuilder(uri(pod)).header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(body)), token);
  }

  private Observation call(Pod pod, HttpRequest.Builder request, String token) {
    try {
      HttpResponse<String> answer = http.send(request.timeout(Duration.ofSeconds(2))
          .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
      if (answer.statusCode() != 200) {
        String problem = "answered " + answer.statusCode() + " on /admin/versions"
            + (answer.statusCode() == 404 ? " (a model server without in-place versions: an older image?)" : "");
        LOG.info("pod {} {}", pod.getMetadata().getName(), problem);
        return Observation.missing(problem);
      }
      return Observation.of(PodReport.parse(answer.body()));
    } catch (IllegalArgumentException e) {
      return Observation.missing("an unreadable answer on /admin/versions (" + e.getMessage() + ")");
    } catch (java.io.IOException e) {
      return Observation.missing("unreachable (" + e.getClass().getSimpleName() + ")");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Observation.missing("interrupted");
    }
  }

  private URI uri(Pod pod) {
    String ip = pod.getStatus().getPodIP();
    String host = ip.contains(":") ? "[" + ip + "]" : ip;
    return URI.create("http://%s:%d/admin/versions".formatted(host, port));
  }

  private static boolean addressable(Pod pod) {
    return pod.getStatus() != null && pod.getStatus().getPodIP() != null && !pod.getStatus().getPodIP().isBlank()
        && "Running".equals(pod.getStatus().getPhase()) && pod.getMetadata().getDeletionTimestamp() == null;
  }

  private Optional<String> token(KubernetesClient client, ModelDeployment mdep) {
    return tokens.token(client, mdep);
  }


  @Override
  public void close() {
    workers.shutdownNow();
  }
}
