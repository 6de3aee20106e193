package io.modelship.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.testing.ModelDeployments;
import io.modelship.operator.testing.ScriptedAnalysis;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What happens to reconciliation when the apiserver fails for a while, and then comes back. */
class ApiOutageTest {
  private static final String NS = "ml";
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  /** java-operator-sdk gives up a failing reconciliation after this many attempts unless told otherwise. */
  private static final int SDK_DEFAULT_MAX_ATTEMPTS = 5;

  @Test
  void aReconciliationFailingThroughAnOutageIsRetriedUntilItSucceedsWithoutAnEvent() throws Exception {
    try (var api = new MockApiServer(); var operatorClient = api.operatorClient("outage")) {
      // Shaped like the production policy (every failure retried, doubling, capped), in milliseconds.
      var config = OperatorConfig.defaults().withPolling(Duration.ofMillis(200))
          .withRetry(Duration.ofMillis(20), Duration.ofMillis(200));
      try (var operator = new ModelshipOperator(operatorClient, config, new SimpleMeterRegistry(), Clock.systemUTC(),
          new ScriptedAnalysis())) {
        operator.start();
        // An invalid spec is looked at again every specRecheck: its Secret may appear, and Secrets are not watched.
        var mdep = ModelDeployments.s3("locked", "s3://models/locked/1/");
        mdep.getMetadata().setNamespace(NS);
        mdep.getSpec().getModel().getSource().getS3().setCredentialsSecret("s3-creds");
        api.client.resource(mdep).create();
        await().atMost(TIMEOUT).until(() -> phase(api) == Phase.Failed);

        // The apiserver goes down: every request of the operator fails, so each recheck fails and is retried.
        long failedBefore = failedSecretReads(api);
        api.fail(r -> true);
        await().atMost(TIMEOUT).until(() -> failedSecretReads(api) >= failedBefore + 3L * SDK_DEFAULT_MAX_ATTEMPTS);

        // It comes back, and the Secret is created meanwhile: nothing about the ModelDeployment changes.
        api.recover();
        api.client.resource(new SecretBuilder().withNewMetadata().withName("s3-creds").withNamespace(NS).endMetadata()
            .addToStringData("AWS_ACCESS_KEY_ID", "id").addToStringData("AWS_SECRET_ACCESS_KEY", "key").build()).create();
        await().atMost(TIMEOUT).untilAsserted(() -> {
          assertThat(phase(api)).isNotEqualTo(Phase.Failed);
          assertThat(api.client.resources(Deployment.class).inNamespace(NS).list().getItems())
              .extracting(d -> d.getMetadata().getName()).anyMatch(n -> n.startsWith("locked-"));
        });
      }
    }
  }

  @Test
  void productionRetriesForEverWithACappedBackoffAndLooksAtEveryResourceEveryFewMinutes() throws Exception {
    try (var api = new MockApiServer(); var operatorClient = api.operatorClient("config")) {
      try (var operator = new ModelshipOperator(operatorClient, OperatorConfig.defaults(), new SimpleMeterRegistry(),
          Clock.systemUTC(), new ScriptedAnalysis())) {
        var controller = operator.controllerConfiguration();
        assertThat(controller.maxReconciliationInterval()).hasValueSatisfying(
            interval -> assertThat(interval).isPositive().isLessThanOrEqualTo(Duration.ofMinutes(5)));
        var retry = controller.getRetry().initExecution();
        long previous = 0;
        for (int attempt = 1; attempt <= 1000; attempt++) {
          var delay = retry.nextDelay();
          assertThat(delay).as("delay before attempt %d", attempt).isPresent();
          assertThat(delay.get()).isGreaterThanOrEqualTo(previous).isLessThanOrEqualTo(Duration.ofMinutes(1).toMillis());
          previous = delay.get();
        }
        assertThat(previous).as("the cap is reached").isEqualTo(Duration.ofMinutes(1).toMillis());
        assertThat(retry.isLastAttempt()).isFalse();
      }
    }
  }

  private static Phase phase(MockApiServer api) {
    ModelDeployment mdep = api.client.resources(ModelDeployment.class).inNamespace(NS).withName("locked").get();
    return mdep == null || mdep.getStatus() == null ? null : mdep.getStatus().getPhase();
  }

  private static long failedSecretReads(MockApiServer api) {
    return api.requests().stream()
        .filter(r -> r.method().equals("GET") && r.path().contains("/secrets/s3-creds") && r.code() == 500)
        .count();
  }
}
