package io.modelship.operator.analysis;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Builds /metrics text shaped like the model server's (same names, labels and latency buckets), for tests that
 * need exact counts. Counts are cumulative, as a real server's counters are.
 */
final class ScrapeText {
  /** The model server's buckets (ModelMetrics.LATENCY_BUCKETS), in seconds. */
  static final double[] LATENCY_BOUNDS = {0.00025, 0.0005, 0.00075, 0.001, 0.00125, 0.0015, 0.002, 0.0025, 0.003,
      0.004, 0.005, 0.006, 0.008, 0.01, 0.013, 0.016, 0.02, 0.025, 0.032, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13, 0.16,
      0.2, 0.25, 0.32, 0.4, 0.5, 0.65, 0.8, 1.0, 1.3, 1.6, 2.0, 2.5, 5.0, 10.0};

  private final String model;
  private final String version;
  private final Map<String, Double> requests = new LinkedHashMap<>();
  private final Map<String, double[]> latency = new LinkedHashMap<>();

  ScrapeText(String model, String version) {
    this.model = model;
    this.version = version;
    for (String outcome : new String[] {"success", "client_error", "server_error", "rejected"}) {
      requests.put(outcome, 0.0);
      latency.put(outcome, new double[LATENCY_BOUNDS.length + 1]);
    }
  }

  /** Adds {@code count} requests of {@code outcome} that each took {@code seconds}. */
  ScrapeText add(String outcome, int count, double seconds) {
    requests.merge(outcome, (double) count, Double::sum);
    double[] buckets = latency.get(outcome);
    for (int i = 0; i < LATENCY_BOUNDS.length; i++) {
      if (seconds <= LATENCY_BOUNDS[i]) {
        buckets[i] += count;
      }
    }
    buckets[LATENCY_BOUNDS.length] += count;
    return this;
  }

  String text() {
    StringBuilder out = new StringBuilder();
    out.append("# HELP modelship_inference_latency_seconds Inference request latency\n");
    out.append("# TYPE modelship_inference_latency_seconds histogram\n");
    latency.forEach((outcome, buckets) -> {
      for (int i = 0; i <= LATENCY_BOUNDS.length; i++) {
        String le = i < LATENCY_BOUNDS.length ? String.valueOf(LATENCY_BOUNDS[i]) : "+Inf";
        out.append(String.format(Locale.ROOT,
            "modelship_inference_latency_seconds_bucket{model=\"%s\",outcome=\"%s\",version=\"%s\",le=\"%s\"} %s%n",
            model, outcome, version, le, (long) buckets[i]));
      }
    });
    out.append("# TYPE modelship_inference_requests_total counter\n");
    requests.forEach((outcome, count) -> out.append(String.format(Locale.ROOT,
        "modelship_inference_requests_total{model=\"%s\",outcome=\"%s\",version=\"%s\"} %s%n",
        model, outcome, version, count)));
    out.append("modelship_inference_requests_total{model=\"_unknown\",outcome=\"client_error\",version=\"_unknown\"}"
        + " 1000.0\n");
    out.append("modelship_model_ready{model=\"").append(model).append("\",version=\"").append(version)
        .append("\"} 1.0\n");
    return out.toString();
  }
}
