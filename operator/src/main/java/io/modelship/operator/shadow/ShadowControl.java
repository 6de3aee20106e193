package io.modelship.operator.shadow;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.ShadowSpec;
import io.modelship.operator.resources.AdminToken;
import io.modelship.operator.revision.PodContract;
import io.modelship.operator.revision.Revision;
import io.modelship.operator.rollout.RolloutSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns shadow traffic on and off in the stable pods while a canary runs: {@code PUT /admin/shadow} on each ready
 * stable pod names the canary's revision Service as the mirror's target; the end of the rollout sends
 * {@code DELETE}. Every call carries the ModelDeployment's admin token ({@link AdminToken}). Calls run off the
 * reconcile thread and are repeated by later passes until a pod has acknowledged, so a pod that restarts
 * mid-rollout (and comes back mirroring nothing) is told again. It never writes to the cluster but for creating
 * the token's Secret once.
 */
public final class ShadowControl implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShadowControl.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a stable pod should mirror: the canary revision, where its Service is, and how to compare. */
  public record Target(String canaryRevision, URI endpoint, ShadowSpec spec) {
    String body() {
      ObjectNode json = JSON.createObjectNode();
      json.put("target", endpoint.toString());
      json.put("version", canaryRevision);
      json.put("share", spec.getShare() != null ? spec.getShare() : 1.0);
      if (spec.getMaxPerSecond() != null) {
        json.put("maxPerSecond", spec.getMaxPerSecond());
      }
      if (spec.getOutput() != null) {
        json.put("output", spec.getOutput());
      }
      if (spec.getTolerance() != null) {
        json.put("tolerance", spec.getTolerance());
      }
      return json.toString();
    }

    /** The canary's revision Service, as pods in the cluster reach it. */
    public static Target of(ModelDeployment mdep, String canaryRevision, ShadowSpec spec) {
      return new Target(canaryRevision, URI.create("http://%s.%s.svc".formatted(
          Revision.objectName(mdep.getMetadata().getName(), canaryRevision), mdep.getMetadata().getNamespace())), spec);
    }
  }

  private final int port;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
  private final ExecutorService workers = Executors.newFixedThreadPool(2, r -> {
    Thread t = new Thread(r, "shadow-control");
    t.setDaemon(true);
    return t;
  });
  /** What each pod (by uid) acknowledged last: a request body, or absent for off. */
  private final Map<String, String> acknowledged = new ConcurrentHashMap<>();
  private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
  private final AdminToken.Reader tokens = new AdminToken.Reader();
  private final AtomicLong callsMade = new AtomicLong();

  public ShadowControl() {
    this(PodContract.HTTP_PORT);
  }

  /** @param port the model server's port on each pod (tests run servers on free ports) */
  public ShadowControl(int port) {
    this.port = port;
  }

  /** Creates the ModelDeployment's admin-token Secret unless it exists (pods cannot start without it). */
  public void ensureToken(KubernetesClient client, ModelDeployment mdep) {
    if (token(client, mdep).isPresent()) {
      return;
    }
    try {
      client.resource(AdminToken.fresh(mdep)).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
    }
  }

  /**
   * Makes every ready stable pod mirror to {@code target}, or, when it is empty, stop mirroring. With
   * {@code everyPod} the order goes to pods this operator does not remember telling (after a restart).
   */
  public void sync(KubernetesClient client, ModelDeployment mdep, List<Pod> stablePods, Optional<Target> target,
      boolean everyPod) {
    Optional<String> token = Optional.empty();
    for (Pod pod : stablePods) {
      String uid = pod.getMetadata().getUid();
      String ip = pod.getStatus() != null ? pod.getStatus().getPodIP() : null;
      if (uid == null || ip == null || ip.isBlank() || !ready(pod)) {
        continue;
      }
      String want = target.map(Target::body).orElse(null);
      String has = acknowledged.get(uid);
      boolean needed = want != null ? !want.equals(has) : (has != null || everyPod);
      if (!needed || !inFlight.add(uid)) {
        continue;
      }
      if (token.isEmpty()) {
        token = token(client, mdep);
        if (token.isEmpty()) {
          inFlight.remove(uid);
          return;
        }
      }
      String bearer = token.get();
      workers.execute(() -> {
        try {
          call(ip, bearer, want).ifPresentOrElse(status -> {
            if (status == 200) {
              if (want != null) {
                acknowledged.put(uid, want);
              } else {
                acknowledged.remove(uid);
              }
            } else {
              LOG.info("pod {} answered {} to the shadow order", pod.getMetadata().getName(), status);
            }
          }, () -> LOG.debug("pod {} could not be told about shadow traffic", pod.getMetadata().getName()));
        } finally {
          inFlight.remove(uid);
        }
      });
    }
  }

  /**
   * What a pass asks of the stable pods: while a canary runs and the spec wants shadow traffic, mirror to it;
   * when a rollout has just ended, stop (the stable pods that remain are a rollback's).
   */
  public void follow(KubernetesClient client, ModelDeployment pinned, Optional<String> canaryRevision, boolean ended,
      List<Pod> stablePods) {
    Optional<ShadowSpec> shadow = RolloutSettings.shadowOf(pinned.getSpec());
    if (shadow.isPresent() && canaryRevision.isPresent()) {
      sync(client, pinned, stablePods, Optional.of(Target.of(pinned, canaryRevision.get(), shadow.get())), false);
    } else if (ended) {
      sync(client, pinned, stablePods, Optional.empty(), shadow.isPresent());
    }
  }

  /** Whether the pod acknowledged an order to mirror (true) or has none (false): lets tests wait without sleeping. */
  public boolean mirroring(String podUid) {
    return acknowledged.containsKey(podUid);
  }

  /** Calls made so far: lets tests wait without sleeping. */
  public long calls() {
    return callsMade.get();
  }

  private Optional<Integer> call(String ip, String token, String body) {
    callsMade.incrementAndGet();
    String host = ip.contains(":") ? "[" + ip + "]" : ip;
    HttpRequest.Builder request = HttpRequest.newBuilder(
            URI.create("http://%s:%d/admin/shadow".formatted(host, port)))
        .timeout(Duration.ofSeconds(3))
        .header("Authorization", "Bearer " + token);
    request = body != null
        ? request.header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body))
        : request.DELETE();
    try {
      return Optional.of(http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode());
    } catch (java.io.IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  private Optional<String> token(KubernetesClient client, ModelDeployment mdep) {
    return tokens.token(client, mdep);
  }


  private static boolean ready(Pod pod) {
    return pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  @Override
  public void close() {
    workers.shutdownNow();
  }
}
