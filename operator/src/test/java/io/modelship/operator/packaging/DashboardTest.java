package io.modelship.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.HistoryEntry;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.metrics.RolloutMetrics;
import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.serve.ModelServer;
import io.modelship.server.serve.ServeHooks;
import io.modelship.server.serve.ServeOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard shipped with the chart (dashboards/modelship.json) queries only what the code exports:
 * every metric name, and every label it groups by, is found in the /metrics of a real model server (one that
 * answered requests and mirrored them to another) and of the operator's rollout metrics after a rollout that
 * stepped, was judged and rolled back. The chart renders it as a ConfigMap for Grafana's sidecar, and the
 * Prometheus operator's ServiceMonitor and PodMonitor, when asked.
 */
class DashboardTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern METRIC = Pattern.compile("\\bmodelship_[a-z0-9_]+");
  private static final Pattern BY = Pattern.compile("\\bby \\(([^)]*)\\)");
  @TempDir Path tmp;

  private static JsonNode dashboard() throws Exception {
    return JSON.readTree(RepoPaths.chart().resolve("dashboards/modelship.json").toFile());
  }

  private static List<String> expressions(JsonNode dashboard) {
    return dashboard.findValues("expr").stream().map(JsonNode::asText).toList();
  }

  @Test
  void everyMetricAndLabelTheDashboardQueriesIsOneTheCodeExports() throws Exception {
    String exported = modelServerMetrics() + operatorMetrics();
    Set<String> names = new TreeSet<>();
    Matcher line = Pattern.compile("(?m)^(modelship_[a-z0-9_]+)(\\{([^}]*)\\})?").matcher(exported);
    Set<String> labels = new TreeSet<>(Set.of("le"));
    while (line.find()) {
      names.add(line.group(1));
      if (line.group(3) != null) {
        for (String pair : line.group(3).split(",(?=[a-z_]+=)")) {
          labels.add(pair.substring(0, pair.indexOf('=')));
        }
      }
    }
    List<String> expressions = expressions(dashboard());
    assertThat(expressions).hasSizeGreaterThan(15);
    Set<String> queried = new TreeSet<>();
    Set<String> grouped = new TreeSet<>();
    for (String expr : expressions) {
      METRIC.matcher(expr).results().forEach(m -> queried.add(m.group()));
      BY.matcher(expr).results().forEach(m -> List.of(m.group(1).split(",")).forEach(l -> grouped.add(l.strip())));
    }
    System.out.println("DashboardTest: the dashboard queries " + queried.size() + " metrics, grouped by " + grouped);
    assertThat(names).as("exported metric names").containsAll(queried);
    assertThat(labels).as("exported label names").containsAll(grouped);
  }

  @Test
  void theChartShipsTheDashboardAndTheMonitorsWhenAsked() throws Exception {
    String yaml = new Helm(RepoPaths.chart()).template().withName("modelship-operator").withNamespace("modelship-system")
        .set("grafana.dashboard.enabled", true).set("grafana.dashboard.namespace", "monitoring")
        .set("metrics.serviceMonitor.enabled", true).set("metrics.podMonitor.enabled", true).call();
    List<HasMetadata> objects = Manifests.parse(yaml);
    assertThat(objects).extracting(HasMetadata::getKind).contains("ServiceMonitor", "PodMonitor", "ConfigMap");
    ConfigMap dashboard = objects.stream().filter(ConfigMap.class::isInstance).map(ConfigMap.class::cast)
        .findFirst().orElseThrow();
    assertThat(dashboard.getMetadata().getNamespace()).isEqualTo("monitoring");
    assertThat(dashboard.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
    assertThat(JSON.readTree(dashboard.getData().get("modelship.json"))).isEqualTo(dashboard());
    assertThat(yaml).contains("app.kubernetes.io/name: modelship-model-server", "any: true", "port: http",
        "port: metrics");
  }

  /** /metrics of a real model server that answered requests and mirrored them to a second one. */
  private String modelServerMetrics() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("model"));
    OnnxModels.writeMlp(dir, OnnxModels.Mlp.small());
    Path token = Files.writeString(tmp.resolve("token"), "dashboard-test-token");
    ServeOptions options = ServeOptions.defaults(dir, 0).withWarmupHttpRequests(0).withListen("127.0.0.1", 0)
        .withModel("iris", "1");
    ModelServer stable = ModelServer.start(options.withAdminTokenFile(token), ServeHooks.NONE);
    ModelServer shadow = ModelServer.start(options.withModel("iris", "2"), ServeHooks.NONE);
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> stable.ready() && shadow.ready());
      HttpClient http = HttpClient.newHttpClient();
      http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stable.port() + "/admin/shadow"))
          .header("Authorization", "Bearer dashboard-test-token")
          .PUT(HttpRequest.BodyPublishers.ofString("{\"target\":\"http://127.0.0.1:" + shadow.port()
              + "\",\"version\":\"2\"}")).build(), HttpResponse.BodyHandlers.discarding());
      String body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[5.1,3.5,1.4,0.2]}]}";
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + stable.port() + "/v2/models/iris/infer"))
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.discarding());
        return scrape(http, stable.port()).contains("modelship_shadow_agreeing_rows_total");
      });
      return scrape(http, stable.port());
    } finally {
      stable.shutdown();
      shadow.shutdown();
    }
  }

  private static String scrape(HttpClient http, int port) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  /** The operator's rollout metrics after a canary stepped, was judged and rolled back. */
  private static String operatorMetrics() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    RolloutMetrics metrics = new RolloutMetrics(registry);
    ModelDeployment mdep = new ModelDeployment();
    mdep.setMetadata(new ObjectMetaBuilder().withName("iris").withNamespace("ml").build());
    Instant start = Instant.parse("2026-11-30T10:00:00Z");
    ModelDeploymentStatus atStep0 = status(Phase.Progressing, canary(0, start));
    ModelDeploymentStatus atStep1 = status(Phase.Progressing, canary(1, start.plusSeconds(60)));
    var gate = new GateResultStatus();
    gate.setGate("errorRate");
    gate.setValue(0.2);
    gate.setThreshold(0.01);
    gate.setVerdict(GateResultStatus.Verdict.Fail);
    metrics.record(mdep, new ModelDeploymentStatus(), atStep0, List.of(), start);
    metrics.record(mdep, atStep0, atStep1, List.of(gate), start.plusSeconds(60));
    ModelDeploymentStatus rolledBack = status(Phase.RollingBack, null);
    var ended = new HistoryEntry();
    ended.setRevision("c0ffee");
    ended.setOutcome(HistoryEntry.Outcome.RolledBack);
    ended.setReason("GateFailed: 2 failed evaluations in a row");
    ended.setAt(start.plusSeconds(90).toString());
    rolledBack.setHistory(List.of(ended));
    metrics.record(mdep, atStep1, rolledBack, List.of(gate), start.plusSeconds(90));
    return registry.scrape();
  }

  private static ModelDeploymentStatus status(Phase phase, CanaryStatus canary) {
    var status = new ModelDeploymentStatus();
    status.setPhase(phase);
    status.setCanary(canary);
    return status;
  }

  private static CanaryStatus canary(int step, Instant stepStarted) {
    var canary = new CanaryStatus();
    canary.setRevision("c0ffee");
    canary.setStep(step);
    canary.setWeight(step == 0 ? 10 : 50);
    canary.setStartedAt("2026-11-30T10:00:00Z");
    canary.setStepStartedAt(stepStarted.toString());
    return canary;
  }
}
