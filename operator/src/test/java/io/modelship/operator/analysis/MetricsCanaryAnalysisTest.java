package io.modelship.operator.analysis;

import io.modelship.operator.api.spec.GateSpec;

import static io.modelship.operator.analysis.Fixtures.errorRate;
import static io.modelship.operator.analysis.Fixtures.gate;
import static io.modelship.operator.analysis.Fixtures.latency;
import static io.modelship.operator.analysis.Fixtures.mdep;
import static io.modelship.operator.analysis.Fixtures.pod;
import static io.modelship.operator.analysis.Fixtures.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.fabric8.kubernetes.api.model.Pod;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Window arithmetic and the metric gates, with pods whose /metrics text each test writes. */
class MetricsCanaryAnalysisTest {
  /** Pod name → what its /metrics answers now; absent means unreachable. */
  private final Map<String, String> pages = new ConcurrentHashMap<>();
  private final Map<String, Integer> scrapes = new ConcurrentHashMap<>();
  private final MetricsCanaryAnalysis analysis = new MetricsCanaryAnalysis(pod -> {
    scrapes.merge(pod.getMetadata().getName(), 1, Integer::sum);
    return Optional.ofNullable(pages.get(pod.getMetadata().getName()));
  });

  private final Pod canary1 = pod("canary-1");
  private final Pod canary2 = pod("canary-2");
  private final Pod stable1 = pod("stable-1");

  @AfterEach
  void close() {
    analysis.close();
  }

  private static ScrapeText page() {
    return new ScrapeText(Fixtures.MODEL, "7");
  }

  @Test
  void theFirstLookAtAPodIsOnlyItsBaseline() {
    pages.put("canary-1", page().add("success", 500, 0.004).add("server_error", 400, 0.004).text());
    ModelDeployment mdep = mdep(50, errorRate(0.01));

    List<GateResultStatus> first = analysis.evaluate(request(mdep, List.of(canary1), List.of()));

    GateResultStatus result = gate(first, "errorRate");
    assertThat(result.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(result.getValue()).isNull();
    assertThat(result.getThreshold()).isEqualTo(0.01);
    assertThat(result.getMessage())
        .contains("only 0 canary requests", "need 50", "0 pods measured", "1 first seen (baseline only)");
    assertThat(result.getAt()).isEqualTo("2026-11-24T10:15:30Z");
  }

  @Test
  void aWindowIsTheGrowthSinceThePreviousScrapeSummedOverTheRevisionsPods() {
    ModelDeployment mdep = mdep(50, errorRate(0.01));
    pages.put("canary-1", page().add("success", 1000, 0.004).add("server_error", 500, 0.004).text());
    pages.put("canary-2", page().add("success", 10, 0.004).text());
    analysis.evaluate(request(mdep, List.of(canary1, canary2), List.of()));

    pages.put("canary-1", page().add("success", 1060, 0.004).add("server_error", 502, 0.004)
        .add("client_error", 8, 0.001).text());
    pages.put("canary-2", page().add("success", 40, 0.004).add("server_error", 1, 0.004).text());
    GateResultStatus result = gate(analysis.evaluate(request(mdep, List.of(canary1, canary2), List.of())),
        "errorRate");

    // canary-1: +60 ok, +2 5xx, +8 4xx; canary-2: +30 ok, +1 5xx → 3 server errors in 101 requests.
    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getValue()).isCloseTo(3.0 / 101, within(1e-12));
    assertThat(result.getMessage()).contains("3 of 101 canary requests failed with a 5xx", "2.97%", "max 1.00%");
  }

  @Test
  void aCounterThatWentDownIsARestartAndCountsFromZero() {
    ModelDeployment mdep = mdep(50, errorRate(0.05));
    pages.put("canary-1", page().add("success", 5000, 0.004).add("server_error", 2, 0.004).text());
    analysis.evaluate(request(mdep, List.of(canary1), List.of()));

    // The process restarted: success dropped to 97, while server_error (3) happens to be above its old 2.
    pages.put("canary-1", page().add("success", 97, 0.004).add("server_error", 3, 0.004).text());
    GateResultStatus result = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "errorRate");

    assertThat(result.getValue()).as("3 of 100 since the restart, not 1 of 98").isCloseTo(0.03, within(1e-12));
    assertThat(result.getVerdict()).isEqualTo(Verdict.Pass);
  }

  @Test
  void aVanishedPodIsDroppedAndComesBackAsANewBaseline() {
    ModelDeployment mdep = mdep(10, errorRate(0.5));
    pages.put("canary-1", page().add("success", 100, 0.004).text());
    analysis.evaluate(request(mdep, List.of(canary1), List.of()));
    analysis.evaluate(request(mdep, List.of(), List.of()));

    pages.put("canary-1", page().add("success", 200, 0.004).text());
    GateResultStatus result = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "errorRate");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(result.getMessage()).contains("1 first seen (baseline only)");
  }

  @Test
  void forgetStartsTheDeploymentOverFromBaselines() {
    ModelDeployment mdep = mdep(10, errorRate(0.5));
    pages.put("canary-1", page().add("success", 100, 0.004).text());
    analysis.evaluate(request(mdep, List.of(canary1), List.of()));

    analysis.forget(Fixtures.NAMESPACE, Fixtures.NAME);
    pages.put("canary-1", page().add("success", 200, 0.004).text());
    GateResultStatus result = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "errorRate");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Inconclusive);
  }

  @Test
  void anUnreachablePodKeepsItsBaselineSoItsNextWindowSpansBothIntervals() {
    ModelDeployment mdep = mdep(50, errorRate(0.01));
    pages.put("canary-1", page().add("success", 100, 0.004).text());
    analysis.evaluate(request(mdep, List.of(canary1), List.of()));
    pages.remove("canary-1");
    GateResultStatus missed = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "errorRate");
    assertThat(missed.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(missed.getMessage()).contains("1 unreachable");

    pages.put("canary-1", page().add("success", 200, 0.004).text());
    GateResultStatus result = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "errorRate");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Pass);
    assertThat(result.getMessage()).contains("0 of 100 canary requests");
  }

  @Test
  void unreadableMetricsAreUnreachableNotZero() {
    ModelDeployment mdep = mdep(1, errorRate(0.01));
    pages.put("canary-1", page().add("success", 100, 0.004).text());
    analysis.evaluate(request(mdep, List.of(canary1), List.of()));
    pages.put("canary-1", "modelship_inference_requests_total{model=\"sentiment\" 3\n");

    GateResultStatus result = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "errorRate");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(result.getMessage()).contains("unreadable metrics (line 1:");
  }

  @Test
  void onlyTheDeploymentsModelCounts() {
    ModelDeployment mdep = mdep(50, errorRate(0.01));
    String other = new ScrapeText("other-model", "1").add("server_error", 100, 0.004).text();
    pages.put("canary-1", page().add("success", 10, 0.004).text() + other);
    analysis.evaluate(request(mdep, List.of(canary1), List.of()));
    String otherLater = new ScrapeText("other-model", "1").add("server_error", 900, 0.004).text();
    pages.put("canary-1", page().add("success", 110, 0.004).text() + otherLater);

    GateResultStatus result = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "errorRate");

    assertThat(result.getValue()).isEqualTo(0.0);
    assertThat(result.getVerdict()).isEqualTo(Verdict.Pass);
  }

  @Test
  void clientErrorsAreNotFailuresAndRejectionsAreLeftOut() {
    ModelDeployment mdep = mdep(50, errorRate(0.01));
    pages.put("canary-1", page().text());
    analysis.evaluate(request(mdep, List.of(canary1), List.of()));
    pages.put("canary-1", page().add("success", 90, 0.004).add("client_error", 10, 0.001)
        .add("rejected", 400, 0.0001).text());

    GateResultStatus result = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "errorRate");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Pass);
    assertThat(result.getValue()).isEqualTo(0.0);
    assertThat(result.getMessage()).contains("0 of 100 canary requests", "400 more rejected as overload");
  }

  @Test
  void fewerRequestsThanMinRequestsIsInconclusiveAndSaysHowMany() {
    ModelDeployment mdep = mdep(50, errorRate(0.01));
    pages.put("canary-1", page().text());
    analysis.evaluate(request(mdep, List.of(canary1), List.of()));
    pages.put("canary-1", page().add("success", 30, 0.004).add("server_error", 19, 0.004).text());

    GateResultStatus result = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "errorRate");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(result.getValue()).isNull();
    assertThat(result.getMessage()).startsWith("only 49 canary requests in this window, need 50");
  }

  @Test
  void thinWindowsArePooledUntilThereAreEnoughRequestsToJudge() {
    ModelDeployment mdep = mdep(50, errorRate(0.01));
    pages.put("canary-1", page().text());
    analysis.evaluate(request(mdep, List.of(canary1), List.of()));
    pages.put("canary-1", page().add("success", 20, 0.004).add("server_error", 19, 0.004).text());
    assertThat(gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "errorRate").getVerdict())
        .isEqualTo(Verdict.Inconclusive);
    // 31 more requests: alone still too few, but pooled with the 39 before they make a window of 70.
    pages.put("canary-1", page().add("success", 40, 0.004).add("server_error", 30, 0.004).text());

    GateResultStatus pooled = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "errorRate");

    assertThat(pooled.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(pooled.getValue()).isCloseTo(30 / 70.0, within(1e-9));
    assertThat(pooled.getMessage()).startsWith("too many server errors: 30 of 70 canary requests failed");

    // Once judged, the window moves on: the next one starts from here.
    pages.put("canary-1", page().add("success", 100, 0.004).add("server_error", 30, 0.004).text());
    assertThat(gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "errorRate").getVerdict())
        .isEqualTo(Verdict.Pass);
  }

  @Test
  void anIdleCanaryIsInconclusiveEvenWhenMinRequestsIsZero() {
    ModelDeployment mdep = mdep(0, errorRate(0.01));
    pages.put("canary-1", page().text());
    analysis.evaluate(request(mdep, List.of(canary1), List.of()));

    GateResultStatus result = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "errorRate");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(result.getMessage()).contains("only 0 canary requests", "need 1");
  }

  @Test
  void latencyP99AgainstAnAbsoluteLimitUsesTheWindowsBuckets() {
    ModelDeployment mdep = mdep(50, latency(40.0, null));
    // Slow requests before the window must not count.
    pages.put("canary-1", page().add("success", 1000, 4.0).text());
    analysis.evaluate(request(mdep, List.of(canary1), List.of()));
    // In the window: 90 in (0.005, 0.01], 10 in (0.025, 0.05] and 100 fast client errors, which are left out.
    pages.put("canary-1", page().add("success", 1000, 4.0).add("success", 90, 0.008).add("server_error", 10, 0.03)
        .add("client_error", 100, 0.0005).text());

    GateResultStatus result = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of())), "latencyP99");

    // Rank 99 of 100 is the 9th of 10 in (25ms, 50ms]: 25 + 25 * 9/10 = 47.5 ms.
    assertThat(result.getValue()).isCloseTo(47.5, within(1e-9));
    assertThat(result.getThreshold()).isEqualTo(40.0);
    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getMessage()).isEqualTo("canary p99 47.5 ms above the limit of 40.0 ms");
  }

  @Test
  void latencyP99AgainstTheStableRevisionOverTheSameWindow() {
    GateSpec gate = latency(null, 2.0);
    gate.getLatencyP99().setMinDeltaMs(0.0);
    ModelDeployment mdep = mdep(50, gate);
    pages.put("canary-1", page().text());
    pages.put("stable-1", page().add("success", 5000, 0.2).text());
    analysis.evaluate(request(mdep, List.of(canary1), List.of(stable1)));
    // canary: 100 in (5ms, 10ms] → p99 = 5 + 5 * 99/100 = 9.95 ms; stable: 100 in (2ms, 5ms] → 2 + 3 * .99 = 4.97.
    pages.put("canary-1", page().add("success", 100, 0.008).text());
    pages.put("stable-1", page().add("success", 5000, 0.2).add("success", 100, 0.003).text());

    GateResultStatus result = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of(stable1))),
        "latencyP99");

    assertThat(result.getValue()).isCloseTo(9.95 / 4.97, within(1e-9));
    assertThat(result.getThreshold()).isEqualTo(2.0);
    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getMessage()).contains("canary p99 10.0 ms is 2.00x the stable p99 5.0 ms");
  }

  @Test
  void aRatioOverTheLimitButWithinTheNoiseFloorPasses() {
    // The same windows as above: 9.95 ms vs 4.97 ms is 2.0x, but only 4.98 ms apart, under the 5 ms default.
    ModelDeployment mdep = mdep(50, latency(null, 1.5));
    pages.put("canary-1", page().text());
    pages.put("stable-1", page().add("success", 5000, 0.2).text());
    analysis.evaluate(request(mdep, List.of(canary1), List.of(stable1)));
    pages.put("canary-1", page().add("success", 100, 0.008).text());
    pages.put("stable-1", page().add("success", 5000, 0.2).add("success", 100, 0.003).text());

    GateResultStatus result = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of(stable1))),
        "latencyP99");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Pass);
    assertThat(result.getMessage()).contains("above the max of 1.50x", "within 5.0 ms");
  }

  @Test
  void tooFewStableRequestsMakesTheRatioInconclusiveButAnAbsoluteFailStillWins() {
    pages.put("canary-1", page().text());
    pages.put("stable-1", page().text());
    ModelDeployment ratioOnly = mdep(50, latency(null, 1.5));
    ModelDeployment both = mdep(50, latency(5.0, 1.5));
    analysis.evaluate(request(ratioOnly, List.of(canary1), List.of(stable1)));
    pages.put("canary-1", page().add("success", 100, 0.008).text());
    pages.put("stable-1", page().add("success", 3, 0.003).text());

    GateResultStatus ratio = gate(analysis.evaluate(request(ratioOnly, List.of(canary1), List.of(stable1))),
        "latencyP99");
    assertThat(ratio.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(ratio.getMessage()).contains("only 3 timed stable requests in this window, need 50");

    analysis.forget(Fixtures.NAMESPACE, Fixtures.NAME);
    pages.put("canary-1", page().text());
    pages.put("stable-1", page().text());
    analysis.evaluate(request(both, List.of(canary1), List.of(stable1)));
    pages.put("canary-1", page().add("success", 100, 0.008).text());
    pages.put("stable-1", page().add("success", 3, 0.003).text());
    GateResultStatus absolute = gate(analysis.evaluate(request(both, List.of(canary1), List.of(stable1))),
        "latencyP99");
    assertThat(absolute.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(absolute.getThreshold()).isEqualTo(5.0);
    assertThat(absolute.getMessage()).contains("above the limit of 5.0 ms", "only 3 timed stable requests");
  }

  @Test
  void bothLatencyChecksMustPass() {
    ModelDeployment mdep = mdep(50, latency(50.0, 1.5));
    pages.put("canary-1", page().text());
    pages.put("stable-1", page().text());
    analysis.evaluate(request(mdep, List.of(canary1), List.of(stable1)));
    pages.put("canary-1", page().add("success", 100, 0.008).text());
    pages.put("stable-1", page().add("success", 100, 0.008).text());

    GateResultStatus pass = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of(stable1))),
        "latencyP99");
    assertThat(pass.getVerdict()).isEqualTo(Verdict.Pass);
    assertThat(pass.getMessage()).contains("within 50.0 ms", "1.00x the stable p99");

    pages.put("canary-1", page().add("success", 100, 0.008).add("success", 100, 0.04).text());
    pages.put("stable-1", page().add("success", 200, 0.008).text());
    GateResultStatus fail = gate(analysis.evaluate(request(mdep, List.of(canary1), List.of(stable1))),
        "latencyP99");
    assertThat(fail.getVerdict()).as("p99 within 50 ms but 4.9x stable").isEqualTo(Verdict.Fail);
    assertThat(fail.getThreshold()).isEqualTo(1.5);
  }

  @Test
  void withoutGatesTheDefaultsRunAndRestartsAlwaysDoes() {
    ModelDeployment mdep = mdep(null);

    List<GateResultStatus> results = analysis.evaluate(request(mdep, List.of(canary1), List.of(stable1)));

    assertThat(results).extracting(GateResultStatus::getGate).containsExactly("errorRate", "latencyP99", "restarts");
    assertThat(gate(results, "errorRate").getThreshold()).isEqualTo(MetricsCanaryAnalysis.DEFAULT_MAX_ERROR_RATE);
    assertThat(gate(results, "latencyP99").getThreshold())
        .isEqualTo(MetricsCanaryAnalysis.DEFAULT_MAX_LATENCY_RATIO);
  }

  @Test
  void anExplicitlyEmptyGateListScrapesNothingAndKeepsRestarts() {
    ModelDeployment mdep = mdep(null);
    mdep.getSpec().getRollout().getAnalysis().setGates(List.of());

    List<GateResultStatus> results = analysis.evaluate(request(mdep, List.of(canary1), List.of(stable1)));

    assertThat(results).extracting(GateResultStatus::getGate).containsExactly("restarts");
    assertThat(scrapes).isEmpty();
  }

  @Test
  void aNamedGateReportsUnderItsName() {
    var gate = errorRate(0.01);
    gate.setName("five-hundreds");

    List<GateResultStatus> results = analysis.evaluate(request(mdep(50, gate), List.of(canary1), List.of()));

    assertThat(results).extracting(GateResultStatus::getGate).containsExactly("five-hundreds", "restarts");
  }

  @Test
  void restartsOfTheModelServerContainerFailTheCanary() {
    Pod crashed = pod("canary-2", "10.0.0.2", 8080, 2);
    Pod other = pod("canary-3", "10.0.0.3", 8080, 1);

    GateResultStatus result = gate(analysis.evaluate(request(mdep(50, errorRate(0.01)),
        List.of(canary1, crashed, other), List.of())), "restarts");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getValue()).isEqualTo(3.0);
    assertThat(result.getThreshold()).isEqualTo(0.0);
    assertThat(result.getMessage()).contains("restarted 3 times", "canary-2 (2)", "canary-3 (1)");
  }

  @Test
  void restartsPassWithoutRestartsAndAreInconclusiveWithoutPods() {
    GateResultStatus pass = gate(analysis.evaluate(request(mdep(50, errorRate(0.01)), List.of(canary1, canary2),
        List.of())), "restarts");
    GateResultStatus none = gate(analysis.evaluate(request(mdep(50, errorRate(0.01)), List.of(), List.of())),
        "restarts");

    assertThat(pass.getVerdict()).isEqualTo(Verdict.Pass);
    assertThat(pass.getValue()).isEqualTo(0.0);
    assertThat(none.getVerdict()).isEqualTo(Verdict.Inconclusive);
  }

  @Test
  void aBrokenPodMetricsNeverEscapesEvaluate() {
    MetricsCanaryAnalysis broken = new MetricsCanaryAnalysis(pod -> {
      throw new IllegalStateException("boom");
    });
    try {
      List<GateResultStatus> results =
          broken.evaluate(request(mdep(50, errorRate(0.01)), List.of(canary1), List.of()));
      assertThat(gate(results, "errorRate").getVerdict()).isEqualTo(Verdict.Inconclusive);
      assertThat(gate(results, "errorRate").getMessage()).contains("1 unreachable");
    } finally {
      broken.close();
    }
  }

  @Test
  void aMalformedResourceBecomesAnInconclusiveVerdictNotAnException() {
    ModelDeployment noSpec = mdep(50);
    noSpec.setSpec(null);

    List<GateResultStatus> results = analysis.evaluate(request(noSpec, List.of(canary1), List.of()));

    assertThat(results).singleElement().satisfies(r -> {
      assertThat(r.getVerdict()).isEqualTo(Verdict.Inconclusive);
      assertThat(r.getMessage()).contains("the analysis itself failed");
    });
  }
}
