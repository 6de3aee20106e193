package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;

@ValidationRule(
    value = "(has(self.errorRate) ? 1 : 0) + (has(self.latencyP99) ? 1 : 0) + (has(self.prometheus) ? 1 : 0) + (has(self.webhook) ? 1 : 0) + (has(self.predictionAgreement) ? 1 : 0) == 1",
    message = "a gate sets exactly one of errorRate, latencyP99, prometheus, webhook or predictionAgreement")
public class GateSpec {
  @Pattern("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
  @JsonPropertyDescription("Name shown in status and Events. Default: the gate's kind.")
  private String name;

  @JsonPropertyDescription("Failed canary requests over each window: more than max answered with a 5xx; more than max refused with a 4xx beyond the stable revision's share over the same window (by more than chance explains: a new version that rejects what clients send); or requests and no success at all. Most requests failing is decisive: rolled back at once.")
  private ErrorRateGate errorRate;

  @JsonPropertyDescription("Latency of the canary: its p99 against an absolute bound, and its latency distribution against the stable revision's over the same window. Canary pods' first window after turning ready is not timed.")
  private LatencyGate latencyP99;

  @JsonPropertyDescription("A PromQL query against a Prometheus server; its single value is compared to min/max.")
  private PrometheusGate prometheus;

  @JsonPropertyDescription("An HTTP endpoint asked about the canary: any 2xx passes.")
  private WebhookGate webhook;

  @JsonPropertyDescription("The canary judged on what it predicts: the stable pods mirror their requests to it (shadow traffic, see rollout.shadow) and compare the answers; the share of rows whose top-1 answer agrees must be at least min, over every mirrored request since the canary started.")
  private PredictionAgreementGate predictionAgreement;

  public String getName() { return name; }
  public void setName(String name) { this.name = name; }
  public ErrorRateGate getErrorRate() { return errorRate; }
  public void setErrorRate(ErrorRateGate errorRate) { this.errorRate = errorRate; }
  public LatencyGate getLatencyP99() { return latencyP99; }
  public void setLatencyP99(LatencyGate latencyP99) { this.latencyP99 = latencyP99; }
  public PrometheusGate getPrometheus() { return prometheus; }
  public void setPrometheus(PrometheusGate prometheus) { this.prometheus = prometheus; }
  public WebhookGate getWebhook() { return webhook; }
  public void setWebhook(WebhookGate webhook) { this.webhook = webhook; }
  public PredictionAgreementGate getPredictionAgreement() { return predictionAgreement; }
  public void setPredictionAgreement(PredictionAgreementGate predictionAgreement) { this.predictionAgreement = predictionAgreement; }

  public static class PredictionAgreementGate {
    @io.fabric8.generator.annotation.Required
    @io.fabric8.generator.annotation.Min(0)
    @io.fabric8.generator.annotation.Max(1)
    @JsonPropertyDescription("Lowest acceptable share of compared rows whose top-1 answer (argmax per row; for one value per row, equal within rollout.shadow.tolerance) agrees with the stable revision's, e.g. 0.95.")
    private Double min;

    @io.fabric8.generator.annotation.Min(1)
    @JsonPropertyDescription("Rows that must have been compared before the gate judges; fewer is Inconclusive. Default 100.")
    private Integer minSamples;

    public Double getMin() { return min; }
    public void setMin(Double min) { this.min = min; }
    public Integer getMinSamples() { return minSamples; }
    public void setMinSamples(Integer minSamples) { this.minSamples = minSamples; }
  }

  public static class ErrorRateGate {
    @io.fabric8.generator.annotation.Required
    @io.fabric8.generator.annotation.Min(0)
    @io.fabric8.generator.annotation.Max(1)
    @JsonPropertyDescription("Highest acceptable share of 5xx answers, e.g. 0.01 for 1%; also the most the canary's share of 4xx answers may exceed the stable's.")
    private Double max;

    public Double getMax() { return max; }
    public void setMax(Double max) { this.max = max; }
  }

  @ValidationRule(value = "has(self.maxMs) || has(self.maxRatio)", message = "set maxMs, maxRatio or both")
  public static class LatencyGate {
    @io.fabric8.generator.annotation.Min(0)
    @JsonPropertyDescription("Highest acceptable p99 in milliseconds.")
    private Double maxMs;

    @io.fabric8.generator.annotation.Min(1)
    @JsonPropertyDescription("How much slower than the stable revision the canary may be over the same window, e.g. 1.5: it fails when its median is more than maxRatio times the stable's and more than minDeltaMs above it, or when more of its requests than chance explains are slower than maxRatio times the stable's p99 (and minDeltaMs above it). A median slower by more than maxRatio and by 2 x minDeltaMs is decisive.")
    private Double maxRatio;

    @io.fabric8.generator.annotation.Min(0)
    @JsonPropertyDescription("For the maxRatio check, a median at most this many milliseconds above the stable's, and requests at most this much slower than the stable's p99, are not slower whatever the ratio: two JVMs serving the same small model differ by a few milliseconds. Default 5.")
    private Double minDeltaMs;

    public Double getMinDeltaMs() { return minDeltaMs; }
    public void setMinDeltaMs(Double minDeltaMs) { this.minDeltaMs = minDeltaMs; }
    public Double getMaxMs() { return maxMs; }
    public void setMaxMs(Double maxMs) { this.maxMs = maxMs; }
    public Double getMaxRatio() { return maxRatio; }
    public void setMaxRatio(Double maxRatio) { this.maxRatio = maxRatio; }
  }

  @ValidationRule(value = "has(self.min) || has(self.max)", message = "set min, max or both")
  public static class PrometheusGate {
    @io.fabric8.generator.annotation.Required
    @Pattern("^https?://.+$")
    @JsonPropertyDescription("Base URL of the Prometheus server, e.g. http://prometheus.monitoring:9090.")
    private String address;

    @io.fabric8.generator.annotation.Required
    @JsonPropertyDescription("PromQL returning one sample. $canary, $stable, $namespace and $model are replaced by the revision names, namespace and model name.")
    private String query;

    @JsonPropertyDescription("Lowest acceptable value.")
    private Double min;

    @JsonPropertyDescription("Highest acceptable value.")
    private Double max;

    public String getAddress() { return address; }
    public void setAddress(String address) { this.address = address; }
    public String getQuery() { return query; }
    public void setQuery(String query) { this.query = query; }
    public Double getMin() { return min; }
    public void setMin(Double min) { this.min = min; }
    public Double getMax() { return max; }
    public void setMax(Double max) { this.max = max; }
  }

  public static class WebhookGate {
    @io.fabric8.generator.annotation.Required
    @Pattern("^https?://.+$")
    @JsonPropertyDescription("URL that receives a JSON POST describing the canary; a 2xx answer passes, anything else fails.")
    private String url;

    @Pattern(Durations.PATTERN)
    @JsonPropertyDescription("How long to wait for the answer. Default 5s; no answer in time is Inconclusive.")
    private String timeout;

    public String getUrl() { return url; }
    public void setUrl(String url) { this.url = url; }
    public String getTimeout() { return timeout; }
    public void setTimeout(String timeout) { this.timeout = timeout; }
  }
}
