package io.modelship.operator;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SubjectRulesReviewStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.modelship.operator.packaging.ChartRbac;
import io.modelship.operator.packaging.ChartRbac.Access;
import io.modelship.operator.testing.ApplyAwareCrudDispatcher;
import io.modelship.operator.testing.OnConflict;
import io.modelship.operator.testing.OperatorHarness;
import java.io.InputStream;
import java.nio.file.Files;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * fabric8's CRUD mock apiserver with the ModelDeployment CRD installed, that can play the parts of a real one the
 * operator process depends on: it tells the operator's requests from the test's (each operator client carries a
 * token of its own, as a service account would), logs them with the answer, fails them on demand (an outage), and
 * authorizes them against the Helm chart's RBAC (403 otherwise, and SelfSubjectRulesReview answered from it).
 */
final class MockApiServer implements AutoCloseable {
  private static final String OPERATOR_TOKEN_PREFIX = "operator-";

  /** One request an operator made, with the status it got. */
  record Request(String identity, String method, String path, String contentType, int code) {
    List<Access> accesses() {
      return Access.of(method, path, contentType);
    }

    @Override
    public String toString() {
      return identity + ": " + method + " " + path + " -> " + code;
    }
  }

  final KubernetesMockServer server;
  /** The test's own client: never failed, never authorized. */
  final KubernetesClient client;
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private volatile Predicate<Request> failing = r -> false;
  private volatile ChartRbac rbac;

  MockApiServer() throws Exception {
    server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(), new HashMap<>(),
        new Dispatcher(), false);
    server.init();
    client = server.createClient();
    try (InputStream crd = Files.newInputStream(OperatorHarness.committedCrd())) {
      client.resource(Serialization.unmarshal(crd, CustomResourceDefinition.class)).create();
    }
  }

  /** A client for one operator: its requests are logged, and failed or authorized as this server is told. */
  KubernetesClient operatorClient(String identity) {
    // No retries inside the client: a failure reaches the reconciler at once, as the test means it to.
    return server.createClient(b -> b.editOrNewConfig()
        .withOauthToken(OPERATOR_TOKEN_PREFIX + identity)
        .withRequestRetryBackoffLimit(0)
        .endConfig());
  }

  /** The kube config environment that points a separate operator process at this server as {@code identity}. */
  java.util.Map<String, String> environmentFor(String identity) {
    return java.util.Map.of(
        "KUBERNETES_MASTER", server.url("/"),
        "KUBERNETES_AUTH_TOKEN", OPERATOR_TOKEN_PREFIX + identity,
        "KUBERNETES_NAMESPACE", "default",
        "KUBERNETES_AUTH_TRYKUBECONFIG", "false",
        "KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false",
        "KUBERNETES_HTTP2_DISABLE", "true");
  }

  /** From now on, operator requests get what the chart's RBAC allows them, and a 403 for the rest. */
  void authorizeWith(ChartRbac chart) {
    rbac = chart;
  }

  /** From now on, operator requests that {@code test} picks fail with a 500, as in an apiserver or etcd outage. */
  void fail(Predicate<Request> test) {
    failing = test;
  }

  void recover() {
    failing = r -> false;
  }

  /** Every request of the operators so far, oldest first. */
  List<Request> requests() {
    return List.copyOf(requests);
  }

  @Override
  public void close() {
    client.close();
    server.destroy();
  }

  private final class Dispatcher extends ApplyAwareCrudDispatcher {
    @Override
    public MockResponse dispatch(RecordedRequest request) {
      String token = bearer(request);
      if (token == null || !token.startsWith(OPERATOR_TOKEN_PREFIX)) {
        return super.dispatch(request);
      }
      var asked = new Request(token.substring(OPERATOR_TOKEN_PREFIX.length()), request.getMethod(), request.getPath(),
          request.getHeader("Content-Type"), 0);
      MockResponse response = answer(request, asked);
      requests.add(new Request(asked.identity(), asked.method(), asked.path(), asked.contentType(), response.code()));
      return response;
    }

    private MockResponse answer(RecordedRequest request, Request asked) {
      if (failing.test(asked)) {
        return status(500, "InternalError", "etcdserver: request timed out");
      }
      ChartRbac chart = rbac;
      if (chart != null) {
        var refused = asked.accesses().stream().filter(a -> !chart.allows(a)).findFirst();
        if (refused.isPresent()) {
          return status(403, "Forbidden", "the chart's RBAC does not allow: " + refused.get());
        }
        if (asked.method().equals("POST") && asked.path().endsWith("/selfsubjectrulesreviews")) {
          var review = Serialization.unmarshal(request.getBody().readUtf8(), SelfSubjectRulesReview.class);
          review.setStatus(new SubjectRulesReviewStatusBuilder()
              .withResourceRules(chart.rulesIn(review.getSpec().getNamespace()))
              .withIncomplete(false)
              .build());
          return new MockResponse().setResponseCode(201).setHeader("Content-Type", "application/json")
              .setBody(Serialization.asJson(review));
        }
      }
      return super.dispatch(request);
    }

    private static String bearer(RecordedRequest request) {
      String authorization = request.getHeader("Authorization");
      return authorization != null && authorization.startsWith("Bearer ") ? authorization.substring(7) : null;
    }
  }

  /**
   * What another replica does when it takes over: holds the operator's Lease with a fresh renew time. The leader
   * renews the Lease meanwhile, so a 409 Conflict is normal: read again and retry, as the other replica would.
   */
  void takeLease(String identity) {
    OnConflict.retry(() -> client.resources(Lease.class).inNamespace(ChartRbac.NAMESPACE)
        .withName(ModelshipOperator.LEASE_NAME).edit(l -> {
          l.getSpec().setHolderIdentity(identity);
          l.getSpec().setRenewTime(ZonedDateTime.now().plusMinutes(1));
          return l;
        }));
  }
}
