package io.modelship.operator.analysis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.modelship.operator.api.spec.GateSpec;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * The webhook gate: POSTs what the canary is to a user's endpoint, which answers with its verdict as a status
 * code. 2xx passes, any other answer fails (the endpoint said no), and no answer is Inconclusive (it did not
 * say anything). The endpoint's body is not read beyond a short excerpt for the message.
 */
final class Webhook {
  static final String KIND = "webhook";
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_BODY_BYTES = 4 * 1024;
  private static final int EXCERPT_CHARS = 120;

  private Webhook() {}

  /** The JSON body's fields, in the documented order. */
  static Map<String, String> payload(AnalysisRequest request) {
    Map<String, String> body = new LinkedHashMap<>();
    body.put("namespace", request.mdep().getMetadata().getNamespace());
    body.put("name", request.mdep().getMetadata().getName());
    body.put("model", request.mdep().getSpec().getModel().getName());
    body.put("canaryRevision", request.canaryRevision());
    body.put("stableRevision", request.stableRevision());
    body.put("at", request.now().truncatedTo(ChronoUnit.SECONDS).toString());
    return body;
  }

  static GateResultStatus judge(String gate, GateSpec.WebhookGate spec, AnalysisRequest request, HttpClient http,
      Instant at) {
    Duration timeout;
    URI uri;
    try {
      timeout = io.modelship.operator.api.spec.Durations.parse(spec.getTimeout(), DEFAULT_TIMEOUT);
      uri = URI.create(spec.getUrl());
      if (uri.getHost() == null) {
        throw new IllegalArgumentException("no host");
      }
    } catch (IllegalArgumentException | NullPointerException e) {
      return GateResults.inconclusive(gate, null, "the webhook's url or timeout is not valid", at);
    }
    String where = "webhook " + BoundedHttp.describe(uri);
    HttpResponse<String> response;
    try {
      HttpRequest post = HttpRequest.newBuilder(uri)
          .timeout(timeout)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(payload(request))))
          .build();
      response = BoundedHttp.send(http, post, BoundedBody.truncating(MAX_BODY_BYTES), timeout);
    } catch (TimeoutException e) {
      return GateResults.inconclusive(gate, null, where + " did not answer within " + timeout.toMillis() + " ms",
          at);
    } catch (JsonProcessingException e) {
      return GateResults.inconclusive(gate, null, "cannot write the webhook's request body", at);
    } catch (IOException | RuntimeException e) {
      return GateResults.inconclusive(gate, null, "cannot reach " + where + ": " + BoundedHttp.reason(e), at);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return GateResults.inconclusive(gate, null, "interrupted while calling " + where, at);
    }
    int status = response.statusCode();
    if (status / 100 == 2) {
      return GateResults.result(gate, Verdict.Pass, (double) status, null, where + " answered " + status, at);
    }
    String excerpt = GateResults.oneLine(response.body());
    if (excerpt.length() > EXCERPT_CHARS) {
      excerpt = excerpt.substring(0, EXCERPT_CHARS) + "...";
    }
    return GateResults.result(gate, Verdict.Fail, (double) status, null,
        where + " answered " + status + (excerpt.isEmpty() ? "" : ": " + excerpt), at);
  }
}
