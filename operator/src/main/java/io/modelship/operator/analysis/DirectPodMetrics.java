package io.modelship.operator.analysis;

import io.fabric8.kubernetes.api.model.Pod;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scrapes {@code http://<podIP>:<http port>/metrics} straight from the pod network: the cheap path when the
 * operator runs in the cluster (the NetworkPolicy must let the operator in). Never waits longer than its
 * timeout, including for a body that trickles in.
 */
public final class DirectPodMetrics implements PodMetrics {
  private static final Logger LOG = LoggerFactory.getLogger(DirectPodMetrics.class);
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
  /** A model server's page is ~11 KB per model version; this is room for many versions, not for a runaway. */
  static final int MAX_BODY_BYTES = 4 * 1024 * 1024;

  private final HttpClient http;
  private final Duration timeout;

  public DirectPodMetrics() {
    this(DEFAULT_TIMEOUT);
  }

  public DirectPodMetrics(Duration timeout) {
    this.timeout = timeout;
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(timeout)
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  @Override
  public Optional<String> scrape(Pod pod) {
    String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
    if (ip == null || ip.isBlank()) {
      return Optional.empty();
    }
    String host = ip.contains(":") ? "[" + ip + "]" : ip;
    URI uri = URI.create("http://" + host + ":" + PodMetrics.httpPort(pod) + "/metrics");
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout).GET().build();
    CompletableFuture<HttpResponse<String>> sent = http.sendAsync(request, BoundedBody.handler(MAX_BODY_BYTES));
    try {
      HttpResponse<String> response = sent.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (response.statusCode() != 200) {
        LOG.debug("{} answered {}", uri, response.statusCode());
        return Optional.empty();
      }
      return Optional.of(response.body());
    } catch (TimeoutException e) {
      sent.cancel(true);
      LOG.debug("{} did not answer within {}", uri, timeout);
      return Optional.empty();
    } catch (ExecutionException e) {
      LOG.debug("cannot scrape {}: {}", uri, e.getCause().toString());
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      sent.cancel(true);
      return Optional.empty();
    }
  }
}
