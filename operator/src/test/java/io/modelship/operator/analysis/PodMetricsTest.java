package io.modelship.operator.analysis;

import static io.modelship.operator.analysis.Fixtures.pod;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodMetricsTest {

  @Test
  void directScrapesThePodsIpOnItsHttpPort() {
    try (LocalHttp pod = new LocalHttp().answer(200, RealScrape.OPEN_MODEL)) {
      assertThat(new DirectPodMetrics().scrape(pod("p", "127.0.0.1", pod.port(), 0))).contains(RealScrape.OPEN_MODEL);
      assertThat(pod.received).singleElement().extracting(LocalHttp.Received::path).isEqualTo("/metrics");
    }
  }

  @Test
  void directGivesUpOnASlowPodWithinItsTimeout() {
    try (LocalHttp pod = new LocalHttp().stall()) {
      long start = System.nanoTime();
      assertThat(new DirectPodMetrics(Duration.ofMillis(300)).scrape(pod("p", "127.0.0.1", pod.port(), 0))).isEmpty();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }
  }

  @Test
  void directIsEmptyForNoIpARefusedPortOrANon200() {
    DirectPodMetrics direct = new DirectPodMetrics();
    assertThat(direct.scrape(pod("p", null, 8080, 0))).isEmpty();
    assertThat(direct.scrape(pod("p", "127.0.0.1", LocalHttp.closedPort(), 0))).isEmpty();
    try (LocalHttp pod = new LocalHttp().answer(503, "draining")) {
      assertThat(direct.scrape(pod("p", "127.0.0.1", pod.port(), 0))).isEmpty();
    }
  }

  @Test
  void theHttpPortIsTheModelServersPortNamedHttpElse8080() {
    assertThat(PodMetrics.httpPort(pod("p", "10.0.0.1", 9000, 0))).isEqualTo(9000);
    Pod unnamed = new PodBuilder().withNewSpec().addNewContainer().withName("model-server")
        .addNewPort().withContainerPort(9999).endPort().endContainer().endSpec().build();
    assertThat(PodMetrics.httpPort(unnamed)).isEqualTo(8080);
    assertThat(PodMetrics.httpPort(new Pod())).isEqualTo(8080);
  }

  @Test
  void proxyAsksTheApiserversPodProxyOnTheHttpPort() {
    KubernetesMockServer server = new KubernetesMockServer(false);
    server.init();
    try (KubernetesClient client = server.createClient()) {
      server.expect().get().withPath("/api/v1/namespaces/ml/pods/canary-1:9000/proxy/metrics")
          .andReturn(200, RealScrape.OPEN_MODEL).once();
      ApiServerProxyPodMetrics proxy = new ApiServerProxyPodMetrics(client, Duration.ofSeconds(2));

      assertThat(proxy.scrape(pod("canary-1", "10.0.0.1", 9000, 0))).contains(RealScrape.OPEN_MODEL);
      assertThat(proxy.scrape(pod("canary-2", "10.0.0.2", 9000, 0))).as("the apiserver answers 404").isEmpty();
    } finally {
      server.destroy();
    }
  }

  @Test
  void theEnvironmentChoosesHowPodsAreReached() {
    KubernetesMockServer server = new KubernetesMockServer(false);
    server.init();
    try (KubernetesClient client = server.createClient()) {
      assertThat(PodMetrics.forEnvironment(Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1"), client))
          .isInstanceOf(DirectPodMetrics.class);
      assertThat(PodMetrics.forEnvironment(Map.of(), client)).isInstanceOf(ApiServerProxyPodMetrics.class);
      assertThat(PodMetrics.forEnvironment(
          Map.of("KUBERNETES_SERVICE_HOST", "10.96.0.1", PodMetrics.ACCESS_ENV, "proxy"), client))
          .isInstanceOf(ApiServerProxyPodMetrics.class);
      assertThat(PodMetrics.forEnvironment(Map.of(PodMetrics.ACCESS_ENV, "direct"), client))
          .isInstanceOf(DirectPodMetrics.class);
      assertThatThrownBy(() -> PodMetrics.forEnvironment(Map.of(PodMetrics.ACCESS_ENV, "ssh"), client))
          .hasMessage("MODELSHIP_METRICS_ACCESS must be direct or proxy, not 'ssh'");
    } finally {
      server.destroy();
    }
  }
}
