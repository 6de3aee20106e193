package io.modelship.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.modelship.operator.testing.OperatorHarness;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** What a person running the operator sees before and around reconciling: start-up checks and endpoints. */
class OperatorProcessTest {

  @Test
  void noReachableClusterIsOneLineNamingWhereItLooked() throws Exception {
    int closedPort;
    try (var socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    var config = new ConfigBuilder().withMasterUrl("https://127.0.0.1:" + closedPort)
        .withRequestTimeout(2000).withConnectionTimeout(2000).withRequestRetryBackoffLimit(0).build();
    try (var client = new KubernetesClientBuilder().withConfig(config).build()) {
      String message = OperatorMain.checkCluster(client);
      assertThat(message)
          .startsWith("modelship-operator: no Kubernetes API server reachable at https://127.0.0.1:" + closedPort)
          .contains("KUBECONFIG")
          .doesNotContain("\n")
          .doesNotContain("\tat ");
    }
  }

  @Test
  void aClusterWithoutTheCrdSaysHowToInstallIt() throws Exception {
    var server = new io.fabric8.kubernetes.client.server.mock.KubernetesMockServer(false);
    server.init();
    try (var client = server.createClient()) {
      assertThat(OperatorMain.checkCluster(client))
          .contains("CRD is not installed")
          .contains("kubectl apply -f crds/modeldeployments.modelship.io-v1.yml");
    } finally {
      server.destroy();
    }
  }

  @Test
  void aClusterWithTheCrdPassesTheCheck() throws Exception {
    try (var k8s = new OperatorHarness()) {
      assertThat(OperatorMain.checkCluster(k8s.client)).isNull();
    }
  }

  @Test
  void healthReadinessAndMetricsAreServed() throws Exception {
    var ready = new AtomicBoolean(false);
    var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.counter("modelship_test_total").increment();
    try (var health = new HealthServer(0, () -> true, ready::get, registry)) {
      var http = HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + health.port();
      assertThat(get(http, base + "/healthz").statusCode()).isEqualTo(200);
      assertThat(get(http, base + "/readyz").statusCode()).isEqualTo(503);
      ready.set(true);
      assertThat(get(http, base + "/readyz").statusCode()).isEqualTo(200);
      var metrics = get(http, base + "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).contains("modelship_test_total 1.0");
    }
  }

  private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
