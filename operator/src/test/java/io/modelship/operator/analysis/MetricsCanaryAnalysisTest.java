package io.modelship.operator.analysis;

import io.modelship.operator.api.spec.GateSpec;

import static io.modelship.operator.analysis.Fixtures.errorRate;
import static io.modelship.operator.analysis.Fixtures.gate;
import static io.modelship.operator.analysis.Fixtures.latency;
import static io.modelship.operator.analysis.Fixtures.NOW;
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
  void inPlaceTheTwoVersionsOfOnePodAreJudgedApart() {
    // Both versions live in the same pods: one scrape holds them both, told apart by their version label.
    Pod pod1 = pod("host-1");
    Pod pod2 = pod("host-2");
    ModelDeployment mdep = mdep(50, errorRate(0.01), latency(null, 2.0));
    var both = new java.util.function.BiFunction<ScrapeText, ScrapeText, String>() {
      @Override
      public String apply(ScrapeText stable, ScrapeText canary) {
        return stable.text() + canary.text().lines().filter(l -> !l.startsWith("#") && !l.contains("_unknown"))
            .map(l -> l + "\n").reduce("", String::concat);
      }
    };
    var inPlace = java.util.Optional.of(new AnalysisRequest.InPlace("v2", "v1", NOW.minusSeconds(60)));
    java.util.function.Function<java.time.Instant, AnalysisRequest> request = at ->
        new AnalysisRequest(mdep, "c0ffee", List.of(pod1, pod2), "5ab1e0", List.of(pod1, pod2), at, inPlace);
    for (String name : List.of("host-1", "host-2")) {
      pages.put(name, both.apply(new ScrapeText(Fixtures.MODEL, "v1").add("success", 5000, 0.004),
          new ScrapeText(Fixtures.MODEL, "v2").add("success", 10, 0.004)));
    }
    analysis.evaluate(request.apply(NOW));
    // Next window: v1 answers 400 more per pod, all fine; v2 answers 100 per pod, 20 of them failing and slow.
    for (String name : List.of("host-1", "host-2")) {
      pages.put(name, both.apply(new ScrapeText(Fixtures.MODEL, "v1").add("success", 5400, 0.004),
          new ScrapeText(Fixtures.MODEL, "v2").add("success", 10, 0.004).add("success", 80, 0.05)
              .add("server_error", 20, 0.05)));
    }
    List<GateResultStatus> results = analysis.evaluate(request.apply(NOW.plusSeconds(5)));

    GateResultStatus errors = gate(results, "errorRate");
    assertThat(errors.getValue()).as("40 of 200 v2 requests, not of the 1000 both versions answered")
        .isCloseTo(0.2, within(1e-12));
    assertThat(errors.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(gate(results, "latencyP99").getVerdict()).as("v2 at 50 ms against v1 at 4 ms").isEqualTo(Verdict.Fail);
    assertThat(gate(results, "restarts").getVerdict()).isEqualTo(Verdict.Pass);
  }

  @Test
  void inPlaceOnlyRestartsSinceTheCanaryStartedCount() {
    Pod restartedLongAgo = new io.fabric8.kubernetes.api.model.PodBuilder(pod("host-1", "10.0.0.1", 8080, 1))
        .editStatus().editFirstContainerStatus().withNewLastState().withNewTerminated().withExitCode(137)
        .withFinishedAt(NOW.minusSeconds(3600).toString()).endTerminated().endLastState().endContainerStatus()
        .endStatus().build();
    Pod restartedNow = new io.fabric8.kubernetes.api.model.PodBuilder(pod("host-2", "10.0.0.2", 8080, 1))
        .editStatus().editFirstContainerStatus().withNewLastState().withNewTerminated().withExitCode(137)
        .withFinishedAt(NOW.minusSeconds(10).toString()).endTerminated().endLastState().endContainerStatus()
        .endStatus().build();
    ModelDeployment mdep = mdep(50, errorRate(0.01));
    var since = java.util.Optional.of(new AnalysisRequest.InPlace("v2", "v1", NOW.minusSeconds(60)));
    assertThat(gate(analysis.evaluate(new AnalysisRequest(mdep, "c0ffee", List.of(restartedLongAgo), "5ab1e0",
        List.of(restartedLongAgo), NOW, since)), "restarts").getVerdict()).isEqualTo(Verdict.Pass);
    assertThat(gate(analysis.evaluate(new AnalysisRequest(mdep, "c0ffee", List.of(restartedNow), "5ab1e0",
        List.of(restartedNow), NOW, since)), "restarts").getVerdict()).isEqualTo(Verdict.Fail);
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

  // --- latency -------------------------------------------------------------------------------------------

  @Test
  void aCanaryPodsFirstWindowCountsItsErrorsButNotItsLatency() {
    ModelDeployment mdep = mdep(50, errorRate(0.01), latency(null, 2.0));
    // Just turned ready; the stable pods have served for long (their Ready condition is not even looked at).
    Pod canary1 = Fixtures.readyPod("canary-1", now);
    servers("canary-1", "stable-1");
    window(mdep, List.of(canary1), List.of(stable1));
    // A JVM that has just turned ready: its first requests are slow, and that is no fault of the model version.
    serve("canary-1", "success", 95, 0.002);
    serve("canary-1", "success", 5, 0.06);
    serve("stable-1", "success", 500, 0.002);

    List<GateResultStatus> cold = window(mdep, List.of(canary1), List.of(stable1));

    assertThat(gate(cold, "latencyP99").getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(gate(cold, "latencyP99").getMessage())
        .contains("only 0 timed canary requests", "1 pod ready for under 5 s at the window's start (latency not counted)");
    assertThat(gate(cold, "errorRate").getVerdict()).as("errors count from the first window").isEqualTo(Verdict.Pass);

    serve("canary-1", "success", 100, 0.002);
    serve("stable-1", "success", 500, 0.002);
    assertThat(gate(window(mdep, List.of(canary1), List.of(stable1)), "latencyP99").getVerdict())
        .isEqualTo(Verdict.Pass);
  }

  @Test
  void aCanaryManyTimesSlowerIsCaughtInItsFirstWindowAlready() {
    ModelDeployment mdep = mdep(50, latency(null, 2.0));
    Pod canary1 = Fixtures.readyPod("canary-1", now);
    servers("canary-1", "stable-1");
    window(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 100, 0.02);
    serve("stable-1", "success", 500, 0.002);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "latencyP99");

    // 20 ms against 2 ms: no warm-up explains 18 ms slower on most requests.
    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getDecisive()).isTrue();
    assertThat(result.getMessage()).startsWith("the canary is much slower on most requests, already in its first window");
  }

  @Test
  void latencyP99AgainstAnAbsoluteLimitUsesTheWindowsBuckets() {
    ModelDeployment mdep = mdep(50, latency(40.0, null));
    warmUp(mdep, List.of(canary1), List.of());
    // In the window: 90 in (6 ms, 8 ms], 10 in (25 ms, 32 ms] and 100 fast client errors, which are left out.
    serve("canary-1", "success", 90, 0.007);
    serve("canary-1", "server_error", 10, 0.03);
    serve("canary-1", "client_error", 100, 0.0003);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of()), "latencyP99");

    // Rank 99 of 100 is the 9th of 10 in (25 ms, 32 ms]: 25 + 7 * 9/10 = 31.3 ms.
    assertThat(result.getValue()).isCloseTo(31.3, within(1e-9));
    assertThat(result.getThreshold()).isEqualTo(40.0);
    assertThat(result.getVerdict()).isEqualTo(Verdict.Pass);

    serve("canary-1", "success", 90, 0.007);
    serve("canary-1", "success", 10, 0.045);
    GateResultStatus slow = gate(window(mdep, List.of(canary1), List.of()), "latencyP99");
    // The next window only: 10 in (40 ms, 50 ms] → 40 + 10 * 9/10 = 49 ms.
    assertThat(slow.getValue()).isCloseTo(49.0, within(1e-9));
    assertThat(slow.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(slow.getMessage()).isEqualTo("canary p99 49.0 ms above the limit of 40.0 ms");
  }

  @Test
  void aCanarySlowerOnMostRequestsFailsOnItsMedian() {
    ModelDeployment mdep = mdep(50, latency(null, 2.0));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 200, 0.009);
    serve("stable-1", "success", 800, 0.0022);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "latencyP99");

    // Medians: canary in (8 ms, 10 ms] → 9 ms; stable in (2 ms, 2.5 ms] → 2.25 ms: 4x, 6.75 ms apart (over 5).
    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getDecisive()).as("under 2 x minDeltaMs slower: failureLimit decides").isNull();
    assertThat(result.getValue()).isCloseTo(9.0 / 2.25, within(1e-9));
    assertThat(result.getMessage()).startsWith("the canary is slower on most requests: median 9.0 ms vs 2.3 ms on stable (4.00x)");
  }

  @Test
  void aCanaryManyTimesSlowerIsADecisiveFailure() {
    ModelDeployment mdep = mdep(50, latency(null, 2.0));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 200, 0.015);
    serve("stable-1", "success", 800, 0.0022);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "latencyP99");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getDecisive()).isTrue();
  }

  @Test
  void aFreshCanaryOnABusyNodeFailsButDoesNotDecideAlone() {
    // Seen on the real cluster: a healthy canary's first warm window at 17.6 ms against 7.3 ms (2.42x, 10.3 ms
    // apart), the node busy and the canary's JIT not done. One such window is a Fail; only a second in a row
    // (failureLimit) rolls back, and it was not slower in the next.
    ModelDeployment mdep = mdep(50, latency(null, 2.0));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 200, 0.0176);
    serve("stable-1", "success", 800, 0.0073);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "latencyP99");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getDecisive()).as("2.42x is under 1.5 x maxRatio: failureLimit decides").isNull();
  }

  @Test
  void aFreshCanaryOnABusyNodeIsNotJudgedInItsFirstWindow() {
    ModelDeployment mdep = mdep(50, latency(null, 2.0));
    Pod canary1 = Fixtures.readyPod("canary-1", now);
    servers("canary-1", "stable-1");
    window(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 200, 0.0176);
    serve("stable-1", "success", 800, 0.0073);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "latencyP99");

    assertThat(result.getVerdict()).isNotEqualTo(Verdict.Fail);
  }

  @Test
  void aFewSlowRequestsInAHealthyCanarysWindowAreChanceNotARegression() {
    // What rolled back healthy canaries on a real cluster: p99 21.7 ms against 9.5 ms, from a handful of slow
    // requests in a few hundred, on a canary as fast as the stable on every other request.
    ModelDeployment mdep = mdep(50, latency(null, 2.0));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 196, 0.003);
    serve("canary-1", "success", 4, 0.022);
    serve("stable-1", "success", 990, 0.003);
    serve("stable-1", "success", 10, 0.0095);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "latencyP99");

    assertThat(result.getValue()).as("the p99 ratio alone says 2x or more").isGreaterThan(2.0);
    assertThat(result.getVerdict()).isEqualTo(Verdict.Pass);
    assertThat(result.getMessage()).contains("4 of 200 canary requests slower than", "1.0% expected by chance");
  }

  @Test
  void aTailThatReallyMovedFails() {
    ModelDeployment mdep = mdep(50, latency(null, 2.0));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    // One request in ten now takes 40 ms: the median is untouched, the tail is not chance any more.
    serve("canary-1", "success", 450, 0.003);
    serve("canary-1", "success", 50, 0.04);
    serve("stable-1", "success", 990, 0.003);
    serve("stable-1", "success", 10, 0.0095);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "latencyP99");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getDecisive()).isNull();
    assertThat(result.getMessage()).startsWith("the canary's slowest requests are slower: 50 of 500 canary requests");
  }

  @Test
  void aCpuHungryCanaryThatSlowsTheStablePodsBesideItIsStillCaught() {
    // The noisy neighbour: on a shared node the canary's CPU use drags the stable's tail up to meet its own, so
    // the p99s are alike (70 ms vs 74 ms); the medians are not.
    ModelDeployment mdep = mdep(50, latency(null, 2.0));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 190, 0.03);
    serve("canary-1", "success", 10, 0.07);
    serve("stable-1", "success", 950, 0.004);
    serve("stable-1", "success", 50, 0.074);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "latencyP99");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getMessage()).startsWith("the canary is slower on most requests");
  }

  @Test
  void aMedianTwiceTheStablesButWithinMinDeltaMsIsAnotherJvmNotARegression() {
    // Measured: two JVMs serving the same small model differ by up to 2x in median (4.4 ms against 1.9 ms).
    ModelDeployment mdep = mdep(50, latency(null, 2.0));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 200, 0.0045);
    serve("stable-1", "success", 800, 0.0019);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "latencyP99");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Pass);
  }

  @Test
  void tooFewStableRequestsMakesTheRatioInconclusiveButAnAbsoluteFailStillWins() {
    ModelDeployment ratioOnly = mdep(50, latency(null, 1.5));
    warmUp(ratioOnly, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 100, 0.007);
    serve("stable-1", "success", 3, 0.003);
    GateResultStatus ratio = gate(window(ratioOnly, List.of(canary1), List.of(stable1)), "latencyP99");
    assertThat(ratio.getVerdict()).isEqualTo(Verdict.Inconclusive);
    assertThat(ratio.getMessage()).contains("only 3 timed stable requests in this window, need 50");

    analysis.forget(Fixtures.NAMESPACE, Fixtures.NAME);
    ModelDeployment both = mdep(50, latency(5.0, 1.5));
    warmUp(both, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 100, 0.007);
    serve("stable-1", "success", 3, 0.003);
    GateResultStatus absolute = gate(window(both, List.of(canary1), List.of(stable1)), "latencyP99");
    assertThat(absolute.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(absolute.getThreshold()).isEqualTo(5.0);
    assertThat(absolute.getMessage()).contains("above the limit of 5.0 ms", "only 3 timed stable requests");
  }

  @Test
  void bothLatencyChecksMustPass() {
    ModelDeployment mdep = mdep(50, latency(50.0, 1.5));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 100, 0.007);
    serve("stable-1", "success", 100, 0.007);
    GateResultStatus pass = gate(window(mdep, List.of(canary1), List.of(stable1)), "latencyP99");
    assertThat(pass.getVerdict()).isEqualTo(Verdict.Pass);
    assertThat(pass.getMessage()).contains("within 50.0 ms", "(1.00x)");

    serve("canary-1", "success", 100, 0.007);
    serve("canary-1", "success", 100, 0.04);
    serve("stable-1", "success", 200, 0.007);
    GateResultStatus fail = gate(window(mdep, List.of(canary1), List.of(stable1)), "latencyP99");
    assertThat(fail.getVerdict()).as("p99 within 50 ms but half the requests 5x slower").isEqualTo(Verdict.Fail);
    assertThat(fail.getThreshold()).isEqualTo(1.5);
  }

  // --- errors the stable does not make ------------------------------------------------------------------

  @Test
  void aCanaryThatRefusesEveryRequestWithA4xxIsADecisiveFailure() {
    // A new version expecting another input schema: 400 for every request. Not a 5xx, and not timed.
    ModelDeployment mdep = mdep(50, errorRate(0.01), latency(null, 2.0));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "client_error", 154, 0.0003);
    serve("stable-1", "success", 1400, 0.003);
    serve("stable-1", "client_error", 3, 0.0003);

    List<GateResultStatus> results = window(mdep, List.of(canary1), List.of(stable1));

    GateResultStatus errors = gate(results, "errorRate");
    assertThat(errors.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(errors.getDecisive()).isTrue();
    assertThat(errors.getMessage()).startsWith("none of the 154 canary requests succeeded (154 refused with a 4xx, 0 failed with a 5xx)");
    assertThat(gate(results, "latencyP99").getVerdict()).isEqualTo(Verdict.Inconclusive);
  }

  @Test
  void aWindowWithRequestsAndNoSuccessFailsEvenBelowMinRequests() {
    ModelDeployment mdep = mdep(50, errorRate(0.01));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "client_error", 12, 0.0003);
    serve("stable-1", "success", 100, 0.003);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "errorRate");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getDecisive()).as("12 requests are evidence, not yet plain").isNull();
  }

  @Test
  void whenTheStableFailsAsWellTheClientsAreAtFault() {
    ModelDeployment mdep = mdep(50, errorRate(0.01));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "client_error", 60, 0.0003);
    serve("stable-1", "client_error", 300, 0.0003);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "errorRate");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Pass);
    assertThat(result.getMessage()).contains("60 of 60 canary requests refused with a 4xx (100.00%) against 100.00% of 300 on stable");
  }

  @Test
  void clientErrorsAtTheStablesRateAreTheClientsNotTheCanarys() {
    ModelDeployment mdep = mdep(50, errorRate(0.01));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 93, 0.003);
    serve("canary-1", "client_error", 7, 0.0003);
    serve("stable-1", "success", 950, 0.003);
    serve("stable-1", "client_error", 50, 0.0003);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "errorRate");

    assertThat(result.getVerdict()).as("7% against 5%: within chance").isEqualTo(Verdict.Pass);
  }

  @Test
  void clientErrorsWellAboveTheStablesFail() {
    ModelDeployment mdep = mdep(50, errorRate(0.01));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 70, 0.003);
    serve("canary-1", "client_error", 30, 0.0003);
    serve("stable-1", "success", 950, 0.003);
    serve("stable-1", "client_error", 50, 0.0003);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "errorRate");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getDecisive()).isNull();
    assertThat(result.getValue()).isCloseTo(0.25, within(1e-9));
    assertThat(result.getMessage()).startsWith("the canary refuses requests the stable accepts: 30 of 100 canary requests refused with a 4xx (30.00%) against 5.00% of 1000 on stable");
  }

  @Test
  void mostRequestsFailingWithA5xxIsADecisiveFailure() {
    ModelDeployment mdep = mdep(50, errorRate(0.01));
    warmUp(mdep, List.of(canary1), List.of(stable1));
    serve("canary-1", "success", 40, 0.003);
    serve("canary-1", "server_error", 60, 0.003);
    serve("stable-1", "success", 1000, 0.003);

    GateResultStatus result = gate(window(mdep, List.of(canary1), List.of(stable1)), "errorRate");

    assertThat(result.getVerdict()).isEqualTo(Verdict.Fail);
    assertThat(result.getDecisive()).isTrue();
  }

  // --- helpers for tests that run several windows --------------------------------------------------------

  /** Each pod's counters as its model server keeps them: cumulative; {@link #window} publishes them. */
  private final Map<String, ScrapeText> servers = new ConcurrentHashMap<>();

  private void servers(String... pods) {
    for (String pod : pods) {
      servers.put(pod, page());
    }
  }

  private void serve(String pod, String outcome, int count, double seconds) {
    servers.computeIfAbsent(pod, p -> page()).add(outcome, count, seconds);
  }

  /** When the next window ends: each {@link #window} is one 5 s analysis interval after the one before. */
  private java.time.Instant now = Fixtures.NOW;

  /** Publishes every pod's counters and ends a window. */
  private List<GateResultStatus> window(ModelDeployment mdep, List<Pod> canary, List<Pod> stable) {
    servers.forEach((pod, text) -> pages.put(pod, text.text()));
    List<GateResultStatus> results = analysis.evaluate(request(mdep, canary, stable, now));
    now = now.plusSeconds(5);
    return results;
  }

  /** The baseline, then a first window of ordinary traffic on every pod, so the canary's latency counts next. */
  private void warmUp(ModelDeployment mdep, List<Pod> canary, List<Pod> stable) {
    servers.clear();
    canary.forEach(p -> servers(p.getMetadata().getName()));
    stable.forEach(p -> servers(p.getMetadata().getName()));
    window(mdep, canary, stable);
    servers.keySet().forEach(pod -> serve(pod, "success", 100, 0.002));
    window(mdep, canary, stable);
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
