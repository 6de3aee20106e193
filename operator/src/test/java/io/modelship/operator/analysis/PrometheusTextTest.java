package io.modelship.operator.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelship.operator.analysis.PrometheusText.Sample;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {

  @Test
  void readsEverySampleOfARealModelServerScrape() {
    List<Sample> samples = PrometheusText.parse(RealScrape.OPEN_MODEL);

    long lines = RealScrape.OPEN_MODEL.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).count();
    assertThat(samples).hasSize((int) lines);
    assertThat(samples)
        .filteredOn(s -> s.name().equals("modelship_inference_requests_total"))
        .extracting(s -> s.label("outcome"), Sample::value)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("client_error", 1.0),
            org.assertj.core.groups.Tuple.tuple("server_error", 1.0),
            org.assertj.core.groups.Tuple.tuple("success", 2.0));
    assertThat(samples)
        .filteredOn(s -> s.name().equals("modelship_inference_queue_seconds_bucket")
            && "5.0E-5".equals(s.label("le")))
        .singleElement()
        .satisfies(s -> assertThat(s.labels()).containsEntry("model", "open").containsEntry("version", "1"));
    assertThat(samples)
        .filteredOn(s -> s.name().equals("modelship_inference_queue_seconds_sum"))
        .singleElement()
        .extracting(Sample::value)
        .isEqualTo(4.95785E-4);
    assertThat(samples)
        .filteredOn(s -> s.name().equals("modelship_inference_latency_seconds_bucket")
            && "success".equals(s.label("outcome")) && "+Inf".equals(s.label("le")))
        .singleElement()
        .extracting(Sample::value)
        .isEqualTo(2.0);
  }

  @Test
  void unescapesLabelValuesAndKeepsUnknownEscapesAsWritten() {
    Sample sample = PrometheusText.parse(
        "m{path=\"C:\\\\models\",quote=\"say \\\"hi\\\"\",nl=\"a\\nb\",tab=\"a\\tb\",brace=\"}{,=\"} 1\n").get(0);

    assertThat(sample.labels())
        .containsExactly(
            Map.entry("path", "C:\\models"),
            Map.entry("quote", "say \"hi\""),
            Map.entry("nl", "a\nb"),
            Map.entry("tab", "a\\tb"),
            Map.entry("brace", "}{,="));
  }

  @Test
  void readsSpecialValuesExponentsTimestampsAndLooseSpacing() {
    List<Sample> samples = PrometheusText.parse("""
        # a comment that is neither HELP nor TYPE
        a +Inf
        b -Inf
        c NaN
        d 1.5e3
        e -2E-2 1700000000000
        f{ x = "1" , } 7
        g{} 3
        \th:sub_total 4\t

        """);

    assertThat(samples).extracting(Sample::name).containsExactly("a", "b", "c", "d", "e", "f", "g", "h:sub_total");
    assertThat(samples).extracting(Sample::value)
        .containsExactly(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, 1500.0, -0.02, 7.0, 3.0,
            4.0);
    assertThat(samples.get(5).labels()).containsExactly(Map.entry("x", "1"));
    assertThat(samples.get(6).labels()).isEmpty();
  }

  @Test
  void refusesWhatPrometheusRefusesAndNamesTheLine() {
    assertThatThrownBy(() -> PrometheusText.parse("ok 1\nbad{a=\"1\" 2\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("line 2:");
    assertThatThrownBy(() -> PrometheusText.parse("x Infinity")).hasMessageContaining("not a number");
    assertThatThrownBy(() -> PrometheusText.parse("x 1d")).hasMessageContaining("not a number");
    assertThatThrownBy(() -> PrometheusText.parse("x")).hasMessageContaining("no value");
    assertThatThrownBy(() -> PrometheusText.parse("x{a=\"open} 1")).hasMessageContaining("never closed");
    assertThatThrownBy(() -> PrometheusText.parse("x 1 2 3")).hasMessageContaining("after the value");
    assertThatThrownBy(() -> PrometheusText.parse("9x 1")).hasMessageContaining("metric name expected");
  }
}
