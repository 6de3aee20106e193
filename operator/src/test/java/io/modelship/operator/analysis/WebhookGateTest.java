package io.modelship.operator.analysis;

import static io.modelship.operator.analysis.Fixtures.gate;
import static io.modelship.operator.analysis.Fixtures.mdep;
import static io.modelship.operator.analysis.Fixtures.pod;
import static io.modelship.operator.analysis.Fixtures.request;
import static io.modelship.operator.analysis.Fixtures.webhook;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelship.operator.api.spec.GateSpec;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The webhook gate against a real HTTP server playing the user's endpoint. */
class WebhookGateTest {
  private final LocalHttp hook = new LocalHttp();
  private final MetricsCanaryAnalysis analysis = new MetricsCanaryAnalysis(pod -> Optional.empty());

  @AfterEach
  void close() {
    analysis.close();
    hook.close();
  }

  private GateResultStatus evaluate(GateSpec gate) {
    return gate(analysis.evaluate(request(mdep(50, gate), List.of(pod("canary-1")), List.of())), "webhook");
  }

  @Test
  void a2xxPassesAndTheEndpointIsToldWhichCanary() throws Exception {
    hook.answer(204, "");

    GateResultStatus result = evaluate(webhook(hook.url() + "/judge?token=abc", null));

    assertThat(result.getVerdict()).isEqualTo(Verdict.Pass);
    assertThat(result.getValue()).isEqualTo(204.0);
    assertThat(result.getMessage()).isEqualTo("webhook " + hook.url() + " answered 204");
    assertThat(hook.received).singleElement().satisfies(r -> {
      assertThat(r.method()).isEqualTo("POST");
      assertThat(r.path()).isEqualTo("/judge");
      assertThat(r.contentType()).isEqualTo("application/json");
    });
    JsonNode body = new ObjectMapper().readTree(hook.received.get(0).body());
    assertThat(body.properties()).extracting(e -> e.getKey() + "=" + e.getValue().asText()).containsExactly(
        "namespace=ml", "name=sentiment", "model=sentiment", "canaryRevision=c0ffee", "stableRevision=5ab1e0",
        "at=2026-11-24T10:15:30Z");
  }

  @Test
  void anyOtherStatusFailsWithTheEndpointsReason() {
    hook.answer(409, "{\"reason\":\"offline eval: accuracy 0.81 < 0.85\"}\n");

    GateResultStatus result = evaluate(webhook(hook.url(), "2s"));

    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getValue()).isEqualTo(409.0);
    assertThat(result.getMessage()).isEqualTo(
        "webhook " + hook.url() + " answered 409: {\"reason\":\"offline eval: accuracy 0.81 < 0.85\"}");
  }

  @Test
  void noAnswerWithinTheGatesTimeoutIsInconclusive() {
    hook.stall();
    long start = System.nanoTime();

    GateResultStatus result = evaluate(webhook(hook.url(), "300ms"));

    assertThat(result.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(result.getMessage()).contains("did not answer within 300 ms");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
  }

  @Test
  void aRefusedConnectionIsInconclusiveAndTheUrlsSecretsStayOut() {
    GateResultStatus result = evaluate(webhook("http://127.0.0.1:" + LocalHttp.closedPort() + "/hook?token=s3cret",
        null));

    assertThat(result.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(result.getMessage()).startsWith("cannot reach webhook http://127.0.0.1:").doesNotContain("s3cret");
  }
}
