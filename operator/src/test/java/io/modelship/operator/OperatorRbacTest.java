package io.modelship.operator;

import static io.modelship.operator.testing.OperatorHarness.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.modelship.operator.analysis.ApiServerProxyPodMetrics;
import io.modelship.operator.api.spec.TrafficSpec;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.packaging.ChartRbac;
import io.modelship.operator.packaging.ChartRbac.Access;
import io.modelship.operator.resources.RevisionDeployment;
import io.modelship.operator.testing.ModelDeployments;
import io.modelship.operator.testing.OperatorHarness;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The chart's ClusterRole against the requests the operator really makes. The operator runs its real code paths
 * (the start-up check, informers, a whole canary rollout through Gateway API with a scale, a promote by hand and
 * the clean-up, an invalid spec with its Secret lookup and Event, a scrape through the pod proxy) on a mock
 * apiserver that records every request; each request is turned into what the RBAC authorizer would check, and the
 * rendered chart must allow all of them, and grant nothing that none of them needs.
 *
 * <p>A fabric8 call that reads before it writes (a patch by name GETs the object first) shows up here as the GET
 * it is, which is how a missing {@code get} on Deployments broke every scale on a real cluster.
 */
class OperatorRbacTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String TOKEN = "modelship-operator-rbac";

  /** Grants no scenario here exercises, each with the path that needs it. */
  private static final Map<String, String> NEEDED_OFF_THESE_PATHS = Map.of(
      "update modelship.io/modeldeployments/finalizers",
      "no request: admission (OwnerReferencesPermissionEnforcement) asks it of whoever sets blockOwnerDeletion");

  @Test
  void theChartAllowsEveryRequestTheOperatorMakesAndGrantsNothingElse() throws Exception {
    List<RecordedRequest> recorded;
    try (var k8s = new OperatorHarness();
        KubernetesClient operatorClient = k8s.server.createClient(b -> b.editOrNewConfig()
            .withOauthToken(TOKEN).withRequestRetryBackoffLimit(0).endConfig())) {
      assertThat(OperatorMain.checkCluster(operatorClient)).isNull();
      var operator = new ModelshipOperator(operatorClient, OperatorConfig.defaults().withPolling(Duration.ofMillis(200)),
          k8s.metrics, k8s.clock, k8s.analysis, o -> o.withReconciliationMaxInterval(OperatorHarness.MAX_RECONCILE_INTERVAL));
      operator.start();
      try {
        rollOutThroughGatewayApiAndPromoteByHand(k8s);
        reportAnInvalidSpec(k8s);
      } finally {
        operator.close();
      }
      // Outside a cluster the operator reads pod metrics through the apiserver's pod proxy.
      new ApiServerProxyPodMetrics(operatorClient, Duration.ofSeconds(2)).scrape(new PodBuilder()
          .withNewMetadata().withNamespace(NAMESPACE).withName("routed-1a2b3c4d-xyz").endMetadata()
          .withNewSpec().addNewContainer().withName(io.modelship.operator.revision.PodContract.SERVE_CONTAINER).endContainer().endSpec()
          .build());
      recorded = drain(k8s);
    }

    Set<Access> asked = new LinkedHashSet<>();
    for (RecordedRequest r : recorded) {
      if (("Bearer " + TOKEN).equals(r.getHeader("Authorization"))) {
        asked.addAll(Access.of(r.getMethod(), r.getPath(), r.getHeader("Content-Type")));
      }
    }
    assertThat(asked).as("requests recorded").extracting(Access::verb).contains("list", "watch", "get", "patch", "delete", "create");

    ChartRbac chart = ChartRbac.render(Map.of());
    List<Access> podProxy = asked.stream().filter(a -> "pods/proxy".equals(a.resource())).toList();
    assertThat(asked).filteredOn(a -> !podProxy.contains(a)).filteredOn(a -> !chart.allows(a))
        .as("requests the operator made that the chart's RBAC refuses").isEmpty();
    // In a cluster the operator scrapes pod IPs directly; the proxy's permission comes with choosing it.
    assertThat(podProxy).isNotEmpty().allSatisfy(a -> assertThat(chart.allows(a)).as("%s by default", a).isFalse());
    ChartRbac proxy = ChartRbac.render(Map.of("podMetricsAccess", "proxy"));
    assertThat(podProxy).allSatisfy(a -> assertThat(proxy.allows(a)).as("%s with podMetricsAccess=proxy", a).isTrue());
    assertThat(grants(proxy.clusterRules())).containsAll(grants(chart.clusterRules()))
        .hasSize(grants(chart.clusterRules()).size() + 1);

    // Each grant of the chart is used by some request, or named above with the path that needs it.
    Set<String> unused = new TreeSet<>();
    for (PolicyRule rule : chart.clusterRules()) {
      for (PolicyRule single : split(rule)) {
        String grant = single.getVerbs().get(0) + " " + qualified(single.getApiGroups().get(0), single.getResources().get(0));
        boolean used = asked.stream().anyMatch(a -> ChartRbac.matches(single, a));
        if (!used && !NEEDED_OFF_THESE_PATHS.containsKey(grant)) {
          unused.add(grant + (single.getResourceNames().isEmpty() ? "" : " " + single.getResourceNames()));
        }
        // The list above stays honest: a grant used here needs no excuse.
        assertThat(used && NEEDED_OFF_THESE_PATHS.containsKey(grant)).as("%s is used after all", grant).isFalse();
      }
    }
    assertThat(unused).as("grants no request of the operator used").isEmpty();
    assertThat(chart.namespaceRules()).as("a Role, without leader election").isEmpty();
  }

  private static void rollOutThroughGatewayApiAndPromoteByHand(OperatorHarness k8s) {
    var mdep = ModelDeployments.steps(ModelDeployments.s3("routed", "s3://models/routed/1/"), 50, "30s", 100, null);
    var gateway = new TrafficSpec.GatewayApiTraffic();
    gateway.setHttpRoute("routed");
    var parent = new TrafficSpec.ParentRef();
    parent.setName("inference-gateway");
    gateway.setParentRefs(List.of(parent));
    var traffic = new TrafficSpec();
    traffic.setGatewayAPI(gateway);
    ModelDeployments.rollout(mdep).setTraffic(traffic);
    k8s.create(mdep);
    String stable = k8s.awaitOtherRevision("routed", "");
    // Its fetch step's report: the digest is pinned in a ConfigMap, which goes with the revision.
    k8s.fetchedPod(k8s.deployment(stable).orElseThrow(), stable + "-pod", 0,
        "{\"source\":\"s3://models/routed/1/\",\"resolvedUri\":\"s3://models/routed/1/\",\"sha256\":\""
            + "b".repeat(64) + "\",\"bytes\":10,\"files\":1}");
    k8s.autoReady(stable);
    await().atMost(TIMEOUT).until(() -> k8s.phase("routed") == Phase.Stable
        && k8s.client.configMaps().inNamespace(NAMESPACE).withName(stable).get() != null);

    k8s.edit("routed", m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/routed/2/"));
    String canary = k8s.awaitOtherRevision("routed", stable);
    k8s.autoReady(canary);
    // Half of two pods: the stable revision is scaled down to one once the canary pod is ready.
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.replicas(stable)).isEqualTo(1);
      assertThat(k8s.canary("routed").getWeight()).isEqualTo(50);
    });

    k8s.edit("routed", m -> m.getMetadata().setAnnotations(new HashMap<>(Map.of("modelship.io/promote", "true"))));
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.phase("routed")).isEqualTo(Phase.Stable);
      assertThat(k8s.deployment(stable)).isEmpty();
      assertThat(k8s.client.configMaps().inNamespace(NAMESPACE).withName(stable).get()).isNull();
      assertThat(k8s.get("routed").getMetadata().getAnnotations()).doesNotContainKey("modelship.io/promote");
    });

    // Its NetworkPolicy, turned off: deleted.
    k8s.edit("routed", m -> {
      var policy = new io.modelship.operator.api.spec.NetworkPolicySpec();
      policy.setEnabled(false);
      m.getSpec().setNetworkPolicy(policy);
    });
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(
        k8s.client.network().v1().networkPolicies().inNamespace(NAMESPACE).withName("routed").get()).isNull());

    // Autoscaled, then back to fixed replicas: its HorizontalPodAutoscaler is applied, then deleted.
    k8s.edit("routed", m -> {
      var autoscaling = new io.modelship.operator.api.spec.AutoscalingSpec();
      autoscaling.setMaxReplicas(4);
      autoscaling.setMetric(io.modelship.operator.api.spec.AutoscalingSpec.IN_FLIGHT);
      autoscaling.setTarget(8);
      m.getSpec().setAutoscaling(autoscaling);
    });
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(autoscaler(k8s, "routed")).isNotNull());
    k8s.edit("routed", m -> m.getSpec().setAutoscaling(null));
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(autoscaler(k8s, "routed")).isNull());
  }

  private static Object autoscaler(OperatorHarness k8s, String name) {
    return k8s.client.autoscaling().v2().horizontalPodAutoscalers().inNamespace(NAMESPACE).withName(name).get();
  }

  private static void reportAnInvalidSpec(OperatorHarness k8s) {
    var mdep = ModelDeployments.s3("locked", "s3://models/locked/1/");
    mdep.getSpec().getModel().getSource().getS3().setCredentialsSecret("s3-creds");
    k8s.create(mdep);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(
        k8s.client.v1().events().inNamespace(NAMESPACE).list().getItems().stream()
            .filter(e -> "locked".equals(e.getInvolvedObject().getName()))
            .map(Event::getReason))
        .contains("InvalidSpec"));
  }

  /** Every request the mock apiserver has received so far. */
  private static List<RecordedRequest> drain(OperatorHarness k8s) throws InterruptedException {
    List<RecordedRequest> all = new ArrayList<>();
    for (RecordedRequest r; (r = k8s.server.takeRequest(1, TimeUnit.MILLISECONDS)) != null; ) {
      all.add(r);
    }
    return all;
  }

  /** A rule as one rule per (group, resource, verb, name), so each grant is checked on its own. */
  private static List<PolicyRule> split(PolicyRule rule) {
    List<PolicyRule> singles = new ArrayList<>();
    List<String> names = rule.getResourceNames() == null || rule.getResourceNames().isEmpty()
        ? java.util.Collections.singletonList(null) : rule.getResourceNames();
    for (String group : rule.getApiGroups()) {
      for (String resource : rule.getResources()) {
        for (String verb : rule.getVerbs()) {
          for (String name : names) {
            singles.add(new PolicyRuleBuilder().withApiGroups(group).withResources(resource).withVerbs(verb)
                .withResourceNames(name == null ? List.of() : List.of(name)).build());
          }
        }
      }
    }
    return singles;
  }

  private static Set<String> grants(List<PolicyRule> rules) {
    Set<String> grants = new TreeSet<>();
    rules.forEach(r -> split(r).forEach(s -> grants.add(s.getVerbs().get(0) + " "
        + qualified(s.getApiGroups().get(0), s.getResources().get(0)) + " " + s.getResourceNames())));
    return grants;
  }

  private static String qualified(String group, String resource) {
    return group.isEmpty() ? resource : group + "/" + resource;
  }
}
