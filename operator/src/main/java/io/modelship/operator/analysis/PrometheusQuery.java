package io.modelship.operator.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelship.operator.api.spec.GateSpec;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeoutException;

/**
 * The prometheus gate: one instant query against Prometheus's HTTP API whose single sample is compared to min/max.
 * Anything short of exactly one number (an error, no series, several series, NaN, no answer in time) is
 * Inconclusive: the query or Prometheus is broken, which says nothing about the canary.
 */
final class PrometheusQuery {
  static final String KIND = "prometheus";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BODY_BYTES = 1024 * 1024;

  private PrometheusQuery() {}

  /** Values for $canary, $stable, $namespace and $model in a query. */
  record Substitutions(String canary, String stable, String namespace, String model) {
    String apply(String query) {
      return query.replace("$canary", nullToEmpty(canary))
          .replace("$stable", nullToEmpty(stable))
          .replace("$namespace", nullToEmpty(namespace))
          .replace("$model", nullToEmpty(model));
    }

    private static String nullToEmpty(String text) {
      return text == null ? "" : text;
    }
  }

  static GateResultStatus judge(String gate, GateSpec.PrometheusGate spec, Substitutions values, HttpClient http,
      Duration timeout, Instant at) {
    Double threshold = spec.getMax() != null ? spec.getMax() : spec.getMin();
    URI uri;
    try {
      String base = spec.getAddress().endsWith("/") ? spec.getAddress() : spec.getAddress() + "/";
      uri = URI.create(base + "api/v1/query?query="
          + URLEncoder.encode(values.apply(spec.getQuery()), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException | NullPointerException e) {
      return GateResults.inconclusive(gate, threshold, "the Prometheus address is not a URL", at);
    }
    String where = "Prometheus at " + BoundedHttp.describe(uri);
    HttpResponse<String> response;
    try {
      HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", "application/json")
          .GET().build();
      response = BoundedHttp.send(http, request, BoundedBody.handler(MAX_BODY_BYTES), timeout);
    } catch (TimeoutException e) {
      return GateResults.inconclusive(gate, threshold, where + " did not answer within " + timeout.toMillis()
          + " ms", at);
    } catch (IOException | RuntimeException e) {
      return GateResults.inconclusive(gate, threshold, "cannot query " + where + ": " + BoundedHttp.reason(e), at);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return GateResults.inconclusive(gate, threshold, "interrupted while querying " + where, at);
    }

    JsonNode body;
    try {
      body = JSON.readTree(response.body());
    } catch (IOException e) {
      return GateResults.inconclusive(gate, threshold, where + " answered " + response.statusCode()
          + " with a body that is not JSON", at);
    }
    if (!"success".equals(body.path("status").asText()) || response.statusCode() / 100 != 2) {
      return GateResults.inconclusive(gate, threshold, where + " refused the query (" + response.statusCode()
          + " " + body.path("errorType").asText("") + "): " + body.path("error").asText("no error text"), at);
    }
    JsonNode data = body.path("data");
    String type = data.path("resultType").asText();
    JsonNode sample;
    if ("scalar".equals(type)) {
      sample = data.path("result");
    } else if ("vector".equals(type)) {
      JsonNode result = data.path("result");
      if (result.size() != 1) {
        return GateResults.inconclusive(gate, threshold, "the query returned " + result.size()
            + " series; it must return exactly one (aggregate it, e.g. with sum())", at);
      }
      sample = result.get(0).path("value");
    } else {
      return GateResults.inconclusive(gate, threshold, "the query returned a " + type
          + "; it must return one instant sample (a vector of one series or a scalar)", at);
    }
    double value;
    try {
      value = PrometheusText.parseValue(sample.path(1).asText());
    } catch (IllegalArgumentException e) {
      return GateResults.inconclusive(gate, threshold, "the query's sample is not a number", at);
    }
    if (!Double.isFinite(value)) {
      return GateResults.inconclusive(gate, threshold, "the query returned " + value
          + " (e.g. a rate over no requests); NaN is not zero", at);
    }
    if (spec.getMin() != null && value < spec.getMin()) {
      return GateResults.result(gate, Verdict.Fail, value, spec.getMin(), "query value "
          + GateResults.number(value) + " is below the min of " + GateResults.number(spec.getMin()), at);
    }
    if (spec.getMax() != null && value > spec.getMax()) {
      return GateResults.result(gate, Verdict.Fail, value, spec.getMax(), "query value "
          + GateResults.number(value) + " is above the max of " + GateResults.number(spec.getMax()), at);
    }
    return GateResults.result(gate, Verdict.Pass, value, threshold, "query value " + GateResults.number(value)
        + " is within " + range(spec), at);
  }

  private static String range(GateSpec.PrometheusGate spec) {
    String min = spec.getMin() == null ? "-inf" : GateResults.number(spec.getMin());
    String max = spec.getMax() == null ? "+inf" : GateResults.number(spec.getMax());
    return "[" + min + ", " + max + "]";
  }
}
