package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.modelship.operator.api.spec.TrafficSpec;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The gatewayAPI traffic mode against the real Gateway API CRD (from its Go module): the operator owns an
 * HTTPRoute whose backend weights follow the steps exactly, and never route to a canary before it has ready pods.
 * No gateway controller runs here, so the test reads the route, as a controller would.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class GatewayApiE2eTest {
  /** The Gateway API release whose CRDs are installed; v1.7 needs a newer Go than this toolchain. */
  static final String GATEWAY_API_VERSION = "v1.6.3";
  private static final String NAMESPACE = "e2e-gateway";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);

  @BeforeAll
  static void gatewayApi() throws Exception {
    ns.cluster().kubectl("apply", "--server-side", "-f", crd("gateway.networking.k8s.io_httproutes.yaml").toString());
    // The operator looks for the HTTPRoute kind when it starts.
    ns.cluster().kubectl("rollout", "restart", "deployment", "-n", RealCluster.OPERATOR_NAMESPACE);
    ns.cluster().kubectl("rollout", "status", "deployment", "-n", RealCluster.OPERATOR_NAMESPACE, "--timeout=3m");
  }

  /** A CRD file of the Gateway API module, downloaded into Go's module cache. */
  private static Path crd(String file) throws Exception {
    Process download = new ProcessBuilder("go", "mod", "download", "-json", "sigs.k8s.io/gateway-api@" + GATEWAY_API_VERSION)
        .directory(Files.createTempDirectory("gateway-api").toFile()).redirectErrorStream(true).start();
    String json = new String(download.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(download.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(download.exitValue()).as(json).isZero();
    String dir = json.replaceAll("(?s).*\"Dir\": \"([^\"]+)\".*", "$1");
    return Path.of(dir, "config", "crd", "standard", file);
  }

  @Test
  void theRoutesWeightsFollowTheStepsExactly() throws Exception {
    String v1 = ns.store().putMlp("routed/1", new Mlp(4, 16, 1, 3, 31));
    String v2 = ns.store().putMlp("routed/2", new Mlp(4, 16, 1, 3, 32));
    var spec = Specs.steps(Specs.s3(NAMESPACE, "routed", ns.store(), v1, 2), 10, "5s", 50, "5s", 100, null);
    var gateway = new TrafficSpec.GatewayApiTraffic();
    gateway.setHttpRoute("routed");
    var parent = new TrafficSpec.ParentRef();
    parent.setName("inference-gateway");
    gateway.setParentRefs(List.of(parent));
    var trafficSpec = new TrafficSpec();
    trafficSpec.setGatewayAPI(gateway);
    Specs.rollout(spec).setTraffic(trafficSpec);
    Specs.errorRateGate(spec, "2s", 5, 0.05);
    ns.cluster().client().resource(spec).create();
    var mdep = new Mdeps(ns.cluster(), NAMESPACE, "routed");
    await("v1 stable").atMost(Duration.ofMinutes(3)).untilAsserted(() -> assertThat(mdep.phase()).isEqualTo(Phase.Stable));
    String stable = "routed-" + mdep.stable().getRevision();
    assertThat(weights()).containsExactly(Map.entry(stable, 100));

    Map<Integer, Map<String, Integer>> seen = new LinkedHashMap<>();
    // No gateway controller routes by the weights here; the client Service reaches both revisions, so the gates
    // have requests to judge.
    try (Traffic traffic = new Traffic(mdep.clusterIp(), "routed", Traffic.IRIS_BODY, 20, 16)) {
      mdep.newSource(v2);
      await("v2 promoted").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
      Map<String, Integer> now = weights();
      int canaryWeight = now.entrySet().stream().filter(e -> !e.getKey().equals(stable))
          .mapToInt(Map.Entry::getValue).findFirst().orElse(-1);
      seen.putIfAbsent(canaryWeight, now);
      assertThat(mdep.phase()).isEqualTo(Phase.Stable);
      assertThat(mdep.status().getHistory()).first().satisfies(h -> assertThat(h.getOutcome()).isEqualTo(Outcome.Promoted));
      });
    }
    RealCluster.progress("canary weights the route went through: " + seen.keySet());
    assertThat(seen.keySet()).as("canary weights seen on the route").contains(0, 10, 50);
    // Status records a promotion before the pass acts on it: the old revision leaves the route a moment later.
    await("the old revision off the route").atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(weights()).containsExactly(Map.entry("routed-" + mdep.stable().getRevision(), 100)));
  }

  private static Map<String, Integer> weights() {
    HTTPRoute route = ns.cluster().client().resources(HTTPRoute.class).inNamespace(NAMESPACE).withName("routed").get();
    if (route == null) {
      throw new AssertionError("no HTTPRoute yet");
    }
    Map<String, Integer> weights = new LinkedHashMap<>();
    route.getSpec().getRules().get(0).getBackendRefs().forEach(b -> weights.put(b.getName(), b.getWeight()));
    return weights;
  }
}
