package io.modelship.e2e;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Pod;
import io.modelship.operator.revision.PodContract;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus server (Debian's {@code prometheus} package, which cluster/deps.sh installs with service starts
 * forbidden) on the node's address, scraping the model-server pods' {@code /metrics} every second, with the pod's
 * namespace, name and {@code modelship.io/revision} label as the series' labels. Debian builds Prometheus without
 * Kubernetes service discovery, so the pods reach it through file discovery: a thread here lists the running
 * model-server pods every second and rewrites the targets file, the part a cluster's own discovery would play.
 * Lives in a temporary directory; stopped (and waited for) on close.
 */
final class PrometheusServer implements AutoCloseable {
  static final String BINARY = "/usr/bin/prometheus";
  private static final ObjectMapper JSON = new ObjectMapper();

  final String address;
  private final Process process;
  private final Path home;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ScheduledExecutorService discovery = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread thread = new Thread(r, "prometheus-discovery");
    thread.setDaemon(true);
    return thread;
  });

  private PrometheusServer(String address, Process process, Path home) {
    this.address = address;
    this.process = process;
    this.home = home;
  }

  static boolean installed() {
    return Files.isExecutable(Path.of(BINARY));
  }

  static PrometheusServer start(RealCluster cluster) throws IOException {
    Path home = Files.createTempDirectory("prometheus-e2e");
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    Path targets = home.resolve("targets.json");
    Files.writeString(targets, "[]");
    Files.writeString(home.resolve("prometheus.yml"), """
        global:
          scrape_interval: 1s
          scrape_timeout: 1s
          evaluation_interval: 1s
        scrape_configs:
          - job_name: model-servers
            file_sd_configs:
              - files: [%s]
                refresh_interval: 1s
        """.formatted(targets));
    String listen = cluster.nodeIp + ":" + port;
    Process process = new ProcessBuilder(BINARY, "--config.file=" + home.resolve("prometheus.yml"),
        "--storage.tsdb.path=" + home.resolve("data"), "--web.listen-address=" + listen,
        "--storage.tsdb.retention.time=1h", "--log.level=warn")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve("prometheus.log").toFile()))
        .start();
    var server = new PrometheusServer("http://" + listen, process, home);
    server.discovery.scheduleWithFixedDelay(() -> server.discover(cluster, targets), 0, 1, TimeUnit.SECONDS);
    try {
      await("Prometheus ready on " + listen).atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(250))
          .until(() -> {
            if (!process.isAlive()) {
              throw new IllegalStateException("prometheus exited: " + server.log());
            }
            return server.ready();
          });
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  /**
   * Writes every running model-server pod as a scrape target (its IP and {@code http} port, with its namespace,
   * revision and name as labels) for Prometheus's file discovery, replacing the file in one move so Prometheus
   * never reads half of it.
   */
  private void discover(RealCluster cluster, Path targets) {
    try {
      var entries = JSON.createArrayNode();
      for (Pod pod : cluster.client().pods().inAnyNamespace()
          .withLabel("app.kubernetes.io/component", "model-server").list().getItems()) {
        if (pod.getStatus() == null || pod.getStatus().getPodIP() == null
            || !"Running".equals(pod.getStatus().getPhase())) {
          continue;
        }
        var entry = entries.addObject();
        entry.putArray("targets").add(pod.getStatus().getPodIP() + ":" + PodContract.HTTP_PORT);
        var labels = entry.putObject("labels");
        labels.put("namespace", pod.getMetadata().getNamespace());
        labels.put("pod", pod.getMetadata().getName());
        labels.put("revision", pod.getMetadata().getLabels().getOrDefault("modelship.io/revision", ""));
      }
      Path next = targets.resolveSibling("targets.json.next");
      Files.writeString(next, JSON.writeValueAsString(entries));
      Files.move(next, targets, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      // The next round tries again; a failed round leaves the last targets in place.
    }
  }

  private boolean ready() {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(address + "/-/ready")).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The result vector of an instant query (an empty array when nothing matches). */
  JsonNode query(String promql) throws IOException, InterruptedException {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(address + "/api/v1/query?query="
        + URLEncoder.encode(promql, StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("query " + promql + " -> " + response.statusCode() + " " + response.body());
    }
    return JSON.readTree(response.body()).path("data").path("result");
  }

  String log() {
    try {
      return Files.readString(home.resolve("prometheus.log"));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    discovery.shutdownNow();
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
