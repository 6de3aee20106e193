package io.modelship.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.modelship.operator.packaging.ChartRbac;
import io.modelship.operator.testing.ScriptedAnalysis;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Several operators electing a leader through the Lease, with exactly the permissions the Helm chart gives them:
 * the mock apiserver refuses whatever the chart's Role and ClusterRole do not allow, as a real one does.
 */
class LeaderElectionTest {
  /** Generous for a busy machine; a stop that hangs never ends at all. */
  private static final Duration STOP_WITHIN = Duration.ofSeconds(15);
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private MockApiServer api;
  private ChartRbac chart;
  private final List<ModelshipOperator> operators = new ArrayList<>();
  private final List<KubernetesClient> clients = new ArrayList<>();

  @BeforeEach
  void startApiServer() throws Exception {
    api = new MockApiServer();
    chart = ChartRbac.render(Map.of("leaderElection.enabled", true));
    api.authorizeWith(chart);
  }

  @AfterEach
  void stopEverything() {
    operators.forEach(ModelshipOperator::close);
    clients.forEach(KubernetesClient::close);
    api.close();
  }

  @Test
  void theLeaderTakesTheLeaseKeepsRenewingItAndGivesItUpWhenStopped() {
    var a = start("operator-a");
    await().atMost(TIMEOUT).until(() -> "operator-a".equals(holder()));
    assertThat(a.isLeading()).isTrue();

    // Renewing is a patch of the Lease: without it the leader lost the Lease after its 10 s renew deadline.
    ZonedDateTime acquired = lease().getSpec().getRenewTime();
    await().atMost(TIMEOUT).until(() -> lease().getSpec().getRenewTime().isAfter(acquired));
    ZonedDateTime renewed = lease().getSpec().getRenewTime();
    await().atMost(TIMEOUT).until(() -> lease().getSpec().getRenewTime().isAfter(renewed));
    assertThat(holder()).isEqualTo("operator-a");
    assertThat(a.leadershipLost()).isNotDone();

    stopWithin(a);
    assertThat(a.leadershipLost()).as("stopping is not losing").isNotDone();
    assertThat(holder()).as("the Lease is given up, so a standby need not wait for it to expire").isNull();
    assertThat(refused()).isEmpty();
  }

  @Test
  void standbysWaitStopPromptlyAndOneTakesOverWhenTheLeaderStops() {
    var a = start("operator-a");
    await().atMost(TIMEOUT).until(() -> "operator-a".equals(holder()));
    var b = start("operator-b");
    var c = start("operator-c");
    // Both have looked at the Lease and found it held.
    await().atMost(TIMEOUT).until(() -> leaseReadsBy("operator-b") > 0 && leaseReadsBy("operator-c") > 0);
    assertThat(b.isLeading()).isFalse();
    assertThat(c.isLeading()).isFalse();

    stopWithin(c);
    assertThat(c.leadershipLost()).isNotDone();
    assertThat(holder()).isEqualTo("operator-a");

    stopWithin(a);
    await().atMost(TIMEOUT).until(() -> "operator-b".equals(holder()));
    await().atMost(TIMEOUT).until(b::isLeading);
    stopWithin(b);
    assertThat(List.of(a, b, c)).allSatisfy(o -> assertThat(o.leadershipLost()).isNotDone());
    assertThat(refused()).isEmpty();

    // The chart's Role grants what the Lease lock used, and update, which java-operator-sdk checks for at start-up
    // (through a SelfSubjectRulesReview) although fabric8's lock patches instead.
    Set<String> used = api.requests().stream()
        .flatMap(r -> r.accesses().stream())
        .filter(access -> "leases".equals(access.resource()))
        .map(ChartRbac.Access::verb)
        .collect(Collectors.toCollection(TreeSet::new));
    assertThat(used).containsExactlyInAnyOrder("create", "get", "patch");
    Set<String> granted = chart.namespaceRules().stream()
        .filter(r -> r.getResources().contains("leases"))
        .flatMap(r -> r.getVerbs().stream())
        .collect(Collectors.toCollection(TreeSet::new));
    used.add("update");
    assertThat(granted).isEqualTo(used);
    assertThat(chart.namespaceRules()).filteredOn(r -> !r.getVerbs().equals(List.of("create")))
        .extracting(PolicyRule::getResourceNames)
        .containsOnly(List.of(ModelshipOperator.LEASE_NAME));
  }

  @Test
  void aLeaderWhoseLeaseIsTakenSaysSoAtOnce() {
    var a = start("operator-a");
    await().atMost(TIMEOUT).until(() -> "operator-a".equals(holder()));
    takeTheLease("someone-else");
    // The process must end now: another replica may already reconcile (OperatorMain exits with 1).
    await().atMost(TIMEOUT).until(() -> a.leadershipLost().isDone());
    assertThat(a.isLeading()).isFalse();
    stopWithin(a);
    assertThat(holder()).as("a Lease held by someone else is not given up").isEqualTo("someone-else");
  }

  /** What another replica does when it takes over: holds the Lease with a fresh renew time. */
  private void takeTheLease(String identity) {
    api.takeLease(identity);
  }

  private ModelshipOperator start(String identity) {
    KubernetesClient client = api.operatorClient(identity);
    clients.add(client);
    var config = OperatorConfig.defaults().withLeaderElection(ChartRbac.NAMESPACE, identity);
    var operator = new ModelshipOperator(client, config, new SimpleMeterRegistry(), Clock.systemUTC(),
        new ScriptedAnalysis());
    operators.add(operator);
    operator.start();
    return operator;
  }

  private void stopWithin(ModelshipOperator operator) {
    var stopped = CompletableFuture.runAsync(operator::close);
    await().atMost(STOP_WITHIN).until(stopped::isDone);
    assertThat(stopped).isCompleted();
    operators.remove(operator);
  }

  private Lease lease() {
    Lease lease = api.client.resources(Lease.class).inNamespace(ChartRbac.NAMESPACE)
        .withName(ModelshipOperator.LEASE_NAME).get();
    if (lease == null || lease.getSpec() == null) {
      throw new AssertionError("no Lease yet");
    }
    return lease;
  }

  private String holder() {
    Lease lease = api.client.resources(Lease.class).inNamespace(ChartRbac.NAMESPACE)
        .withName(ModelshipOperator.LEASE_NAME).get();
    return lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
  }

  private long leaseReadsBy(String identity) {
    return api.requests().stream()
        .filter(r -> r.identity().equals(identity) && r.method().equals("GET") && r.path().contains("/leases/"))
        .count();
  }

  private List<MockApiServer.Request> refused() {
    return api.requests().stream().filter(r -> r.code() == 403).toList();
  }
}
