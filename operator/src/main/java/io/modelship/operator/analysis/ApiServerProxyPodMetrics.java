package io.modelship.operator.analysis;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scrapes a pod through the apiserver's pod proxy, {@code /api/v1/namespaces/{ns}/pods/{name}:{port}/proxy/metrics},
 * with the operator's own credentials: for an operator run outside the cluster, where pod IPs do not route. Needs
 * RBAC {@code get} on {@code pods/proxy}. Uses the fabric8 client's HTTP client (its auth, TLS and token refresh)
 * with a deadline of its own, because the client's request timeout is meant for API calls, not for one pod.
 */
public final class ApiServerProxyPodMetrics implements PodMetrics {
  private static final Logger LOG = LoggerFactory.getLogger(ApiServerProxyPodMetrics.class);
  /** The apiserver adds a hop, so a little more than the direct path. */
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(3);

  private final KubernetesClient client;
  private final Duration timeout;

  public ApiServerProxyPodMetrics(KubernetesClient client) {
    this(client, DEFAULT_TIMEOUT);
  }

  public ApiServerProxyPodMetrics(KubernetesClient client, Duration timeout) {
    this.client = client;
    this.timeout = timeout;
  }

  @Override
  public Optional<String> scrape(Pod pod) {
    if (pod.getMetadata() == null || pod.getMetadata().getName() == null) {
      return Optional.empty();
    }
    String path = "api/v1/namespaces/" + encode(pod.getMetadata().getNamespace()) + "/pods/"
        + encode(pod.getMetadata().getName()) + ":" + PodMetrics.httpPort(pod) + "/proxy/metrics";
    String base = client.getMasterUrl().toString();
    String url = base.endsWith("/") ? base + path : base + "/" + path;
    HttpClient http = client.getHttpClient();
    HttpRequest request = http.newHttpRequestBuilder()
        .uri(url)
        .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .build();
    CompletableFuture<HttpResponse<String>> sent = http.sendAsync(request, String.class);
    try {
      HttpResponse<String> response = sent.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (response.code() != 200) {
        LOG.debug("pod proxy for {} answered {}", pod.getMetadata().getName(), response.code());
        return Optional.empty();
      }
      return Optional.ofNullable(response.body());
    } catch (TimeoutException e) {
      sent.cancel(true);
      LOG.debug("pod proxy for {} did not answer within {}", pod.getMetadata().getName(), timeout);
      return Optional.empty();
    } catch (ExecutionException | RuntimeException e) {
      LOG.debug("cannot scrape {} through the apiserver: {}", pod.getMetadata().getName(), e.toString());
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      sent.cancel(true);
      return Optional.empty();
    }
  }

  private static String encode(String segment) {
    return URLEncoder.encode(segment == null ? "" : segment, StandardCharsets.UTF_8);
  }
}
