package io.modelship.operator.analysis;

import static io.modelship.operator.analysis.Fixtures.gate;
import static io.modelship.operator.analysis.Fixtures.mdep;
import static io.modelship.operator.analysis.Fixtures.pod;
import static io.modelship.operator.analysis.Fixtures.prometheus;
import static io.modelship.operator.analysis.Fixtures.request;
import static org.assertj.core.api.Assertions.assertThat;

import io.modelship.operator.api.spec.GateSpec;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The prometheus gate against a real HTTP server answering like Prometheus's /api/v1/query. */
class PrometheusGateTest {
  private static final String QUERY =
      "sum(rate(modelship_inference_requests_total{namespace=\"$namespace\",revision=\"$canary\",model=\"$model\","
          + "outcome=\"server_error\"}[1m])) / sum(rate(modelship_inference_requests_total{revision=\"$stable\"}[1m]))";

  private final LocalHttp prometheus = new LocalHttp();
  private final MetricsCanaryAnalysis analysis = new MetricsCanaryAnalysis(pod -> Optional.empty(),
      new MetricsCanaryAnalysis.Timeouts(Duration.ofSeconds(1), Duration.ofMillis(300)));

  @AfterEach
  void close() {
    analysis.close();
    prometheus.close();
  }

  private GateResultStatus evaluate(GateSpec gate) {
    List<GateResultStatus> results =
        analysis.evaluate(request(mdep(50, gate), List.of(pod("canary-1")), List.of(pod("stable-1"))));
    return gate(results, "prometheus");
  }

  private static String vector(String... values) {
    StringBuilder result = new StringBuilder();
    for (String value : values) {
      result.append(result.length() == 0 ? "" : ",")
          .append("{\"metric\":{\"revision\":\"c0ffee\"},\"value\":[1764000000.123,\"").append(value).append("\"]}");
    }
    return "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[" + result + "]}}";
  }

  @Test
  void substitutesTheCanaryAndPassesAValueWithinBounds() {
    prometheus.answer(200, vector("0.004"));

    GateResultStatus result = evaluate(prometheus(prometheus.url(), QUERY, null, 0.01));

    assertThat(result.getVerdict()).isEqualTo(Verdict.Pass);
    assertThat(result.getValue()).isEqualTo(0.004);
    assertThat(result.getThreshold()).isEqualTo(0.01);
    assertThat(prometheus.received).singleElement().satisfies(r -> {
      assertThat(r.method()).isEqualTo("GET");
      assertThat(r.path()).isEqualTo("/api/v1/query");
      assertThat(URLDecoder.decode(r.query(), StandardCharsets.UTF_8)).isEqualTo("query="
          + "sum(rate(modelship_inference_requests_total{namespace=\"ml\",revision=\"c0ffee\",model=\"sentiment\","
          + "outcome=\"server_error\"}[1m])) / sum(rate(modelship_inference_requests_total{revision=\"5ab1e0\"}[1m]))");
    });
  }

  @Test
  void failsAboveMaxAndBelowMin() {
    prometheus.answer(200, vector("0.2"));
    GateResultStatus above = evaluate(prometheus(prometheus.url(), QUERY, null, 0.01));
    prometheus.answer(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1764000000,\"3\"]}}");
    GateResultStatus below = evaluate(prometheus(prometheus.url(), "vector(3)", 5.0, null));

    assertThat(above.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(above.getValue()).isEqualTo(0.2);
    assertThat(above.getMessage()).isEqualTo("query value 0.2000 is above the max of 0.01000");
    assertThat(below.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(below.getThreshold()).isEqualTo(5.0);
    assertThat(below.getMessage()).contains("below the min of 5");
  }

  @Test
  void noSeriesSeveralSeriesOrNaNAreInconclusive() {
    prometheus.answer(200, vector());
    assertThat(evaluate(prometheus(prometheus.url(), QUERY, null, 1.0)))
        .satisfies(r -> assertThat(r.getVerdict()).isEqualTo(Verdict.Inconclusive))
        .satisfies(r -> assertThat(r.getMessage()).contains("returned 0 series"));

    prometheus.answer(200, vector("1", "2"));
    assertThat(evaluate(prometheus(prometheus.url(), QUERY, null, 1.0)).getMessage()).contains("returned 2 series");

    prometheus.answer(200, vector("NaN"));
    GateResultStatus nan = evaluate(prometheus(prometheus.url(), QUERY, null, 1.0));
    assertThat(nan.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(nan.getValue()).isNull();
    assertThat(nan.getMessage()).contains("NaN is not zero");
  }

  @Test
  void aQueryPrometheusRefusesIsInconclusiveWithItsError() {
    prometheus.answer(400, "{\"status\":\"error\",\"errorType\":\"bad_data\","
        + "\"error\":\"invalid parameter \\\"query\\\": 1:5: parse error: unexpected end of input\"}");

    GateResultStatus result = evaluate(prometheus(prometheus.url(), "sum(", null, 1.0));

    assertThat(result.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(result.getMessage()).contains("refused the query (400 bad_data)", "parse error");
  }

  @Test
  void noAnswerInTimeOrNoServerIsInconclusive() {
    prometheus.stall();
    long start = System.nanoTime();
    GateResultStatus slow = evaluate(prometheus(prometheus.url(), QUERY, null, 1.0));
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    GateResultStatus refused = evaluate(prometheus("http://127.0.0.1:" + LocalHttp.closedPort(), QUERY, null, 1.0));

    assertThat(slow.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(slow.getMessage()).contains("did not answer within 300 ms");
    assertThat(took).isLessThan(Duration.ofSeconds(3));
    assertThat(refused.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(refused.getMessage()).contains("cannot query Prometheus at http://127.0.0.1:");
  }

  @Test
  void credentialsInTheAddressNeverReachTheMessage() {
    GateResultStatus result = evaluate(
        prometheus("http://admin:s3cret@127.0.0.1:" + LocalHttp.closedPort() + "/prom", QUERY, null, 1.0));

    assertThat(result.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(result.getMessage()).doesNotContain("s3cret", "admin");
  }
}
