package io.modelship.operator;

import static org.assertj.core.api.Assertions.assertThat;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.modelship.operator.packaging.ChartRbac;
import io.modelship.operator.testing.OperatorHarness;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** What a person running the operator sees before and around reconciling: start-up checks, endpoints, stopping. */
class OperatorProcessTest {
  /** Kubernetes' default grace period; a stop that hangs never ends at all. */
  private static final Duration EXIT_WITHIN = Duration.ofSeconds(30);
  /** A JVM start and the informers' first sync, on a busy machine. */
  private static final Duration START_WITHIN = Duration.ofSeconds(90);

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

  /**
   * The real process, as a pod runs it: leader election on, RBAC exactly the chart's, SIGTERM as the kubelet
   * sends it. Both the leader and a standby end with exit code 0, promptly: before, a System.exit inside
   * java-operator-sdk's stop-leading callback, run from our shutdown hook, blocked the JVM for ever.
   */
  @Test
  void sigtermEndsTheLeaderAndAStandbyPromptlyWithExitCodeZero() throws Exception {
    try (var api = new MockApiServer()) {
      api.authorizeWith(ChartRbac.render(Map.of("leaderElection.enabled", true)));
      var leader = OperatorProcess.start(api, "operator-a");
      OperatorProcess standby = null;
      try {
        await().atMost(START_WITHIN).until(() -> String.valueOf(holder(api)).startsWith("operator-a_"));
        standby = OperatorProcess.start(api, "operator-b");
        var b = standby;
        await().atMost(START_WITHIN).until(() -> b.printed("modelship operator started"));
        // The leader keeps its Lease by renewing it while the standby watches.
        ZonedDateTime acquired = lease(api).getSpec().getRenewTime();
        await().atMost(START_WITHIN).until(() -> lease(api).getSpec().getRenewTime().isAfter(acquired));

        assertThat(standby.terminate(EXIT_WITHIN)).as("standby's exit code%n%s", standby.output()).isZero();
        assertThat(standby.output()).contains("SIGTERM received");
        assertThat(holder(api)).startsWith("operator-a_");

        assertThat(leader.terminate(EXIT_WITHIN)).as("leader's exit code%n%s", leader.output()).isZero();
        assertThat(leader.output()).contains("SIGTERM received", "gave up the Lease");
        assertThat(holder(api)).isNull();
        assertThat(api.requests()).filteredOn(r -> r.code() == 403).as("requests the chart's RBAC refused").isEmpty();
      } finally {
        leader.kill();
        if (standby != null) {
          standby.kill();
        }
      }
    }
  }

  /** Two replicas must never reconcile at once: a leader that finds its Lease taken ends at once, with code 1. */
  @Test
  void aLeaderThatLosesItsLeaseExitsAtOnceWithExitCodeOne() throws Exception {
    try (var api = new MockApiServer()) {
      api.authorizeWith(ChartRbac.render(Map.of("leaderElection.enabled", true)));
      var leader = OperatorProcess.start(api, "operator-a");
      try {
        await().atMost(START_WITHIN).until(() -> String.valueOf(holder(api)).startsWith("operator-a_"));
        api.takeLease("operator-b");
        assertThat(leader.exitCode(EXIT_WITHIN)).as("exit code%n%s", leader.output()).isEqualTo(1);
        assertThat(leader.output()).contains("lost the Lease").doesNotContain("gave up the Lease");
        assertThat(holder(api)).isEqualTo("operator-b");
      } finally {
        leader.kill();
      }
    }
  }

  private static Lease lease(MockApiServer api) {
    Lease lease = api.client.resources(Lease.class).inNamespace(ChartRbac.NAMESPACE)
        .withName(ModelshipOperator.LEASE_NAME).get();
    if (lease == null || lease.getSpec() == null) {
      throw new AssertionError("no Lease yet");
    }
    return lease;
  }

  private static String holder(MockApiServer api) {
    Lease lease = api.client.resources(Lease.class).inNamespace(ChartRbac.NAMESPACE)
        .withName(ModelshipOperator.LEASE_NAME).get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  /** {@code java io.modelship.operator.OperatorMain} in a JVM of its own, its output kept. */
  private static final class OperatorProcess {
    private final Process process;
    private final List<String> lines = new CopyOnWriteArrayList<>();

    private OperatorProcess(Process process) {
      this.process = process;
      var reader = new Thread(() -> {
        try (var out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = out.readLine()) != null; ) {
            lines.add(line);
          }
        } catch (IOException e) {
          lines.add("(output unreadable: " + e + ")");
        }
      }, "operator-output");
      reader.setDaemon(true);
      reader.start();
    }

    static OperatorProcess start(MockApiServer api, String identity) throws IOException {
      var builder = new ProcessBuilder(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-XX:TieredStopAtLevel=1", "-Xshare:auto",
          OperatorMain.class.getName());
      Map<String, String> env = builder.environment();
      // The class path through the environment: spelled out on the command line it is far too long.
      env.put("CLASSPATH", System.getProperty("java.class.path"));
      env.remove("KUBECONFIG");
      env.putAll(api.environmentFor(identity));
      env.put("HOSTNAME", identity);
      env.put("POD_NAMESPACE", ChartRbac.NAMESPACE);
      env.put("MODELSHIP_LEADER_ELECTION", "true");
      env.put("MODELSHIP_HEALTH_PORT", "0");
      env.put("MODELSHIP_LOG_FORMAT", "text");
      builder.redirectErrorStream(true);
      return new OperatorProcess(builder.start());
    }

    boolean printed(String text) {
      return lines.stream().anyMatch(l -> l.contains(text));
    }

    String output() {
      return String.join("\n", lines);
    }

    /** Sends SIGTERM, as the kubelet does; returns the exit code, failing if it takes longer than {@code within}. */
    int terminate(Duration within) throws InterruptedException {
      // Through the handle: Process.destroy() also closes our end of the output, losing its last lines.
      process.toHandle().destroy();
      return exitCode(within);
    }

    /** The exit code, failing if the process is still running after {@code within}. */
    int exitCode(Duration within) throws InterruptedException {
      await().atMost(within).until(() -> !process.isAlive());
      return process.waitFor();
    }

    void kill() {
      process.destroyForcibly();
    }
  }
}
