package io.modelship.operator.analysis;

import java.util.Set;

/**
 * The model server's metric and label names the gates read, as model-server's ModelMetrics registers them through
 * Micrometer's Prometheus registry. Renaming a meter there means changing it here. Public for the demo's rollout
 * picture (e2e), which draws from the same metrics the gates judge.
 */
public final class ServerMetricNames {
  public static final String REQUESTS = "modelship_inference_requests_total";
  public static final String LATENCY_BUCKET = "modelship_inference_latency_seconds_bucket";
  /** Inference requests a pod holds right now, over every model version: an autoscaler's per-pod signal. */
  public static final String IN_FLIGHT = "modelship_inference_in_flight";
  /** Requests waiting in a model version's batching queue (labelled by model and version). */
  public static final String QUEUE_DEPTH = "modelship_inference_queue_depth";
  public static final String MODEL = "model";
  public static final String VERSION = "version";
  public static final String OUTCOME = "outcome";
  public static final String LE = "le";

  public static final String SUCCESS = "success";
  public static final String CLIENT_ERROR = "client_error";
  public static final String SERVER_ERROR = "server_error";
  /** A 503 because the model's queue was full (model-server's Outcome.REJECTED). */
  public static final String REJECTED = "rejected";

  /** Outcomes the error rate counts as the canary's failure. */
  public static final Set<String> ERROR_OUTCOMES = Set.of(SERVER_ERROR);

  /** Requests refused as bad input: the canary's share is compared with the stable's. */
  public static final Set<String> CLIENT_ERROR_OUTCOMES = Set.of(CLIENT_ERROR);

  public static final Set<String> SUCCESS_OUTCOMES = Set.of(SUCCESS);

  /**
   * Outcomes the error rate leaves out of both sides. A rejection is overload, not a fault of the model version:
   * during a fleet-wide traffic spike both revisions shed load, and counting that would roll back a good canary
   * exactly when capacity is short. A canary that sheds more because it is slower still fails, on latency: the
   * requests it does accept wait in a full queue. (The CRD's "share answered with a 5xx" predates this outcome.)
   */
  public static final Set<String> NOT_JUDGED_OUTCOMES = Set.of(REJECTED);

  /**
   * Outcomes whose latency the p99 is taken over. Client errors are refused during parsing, in microseconds, and
   * rejections are answered before any work: counting either would make a canary that sees more bad input or
   * sheds more load look faster. A server error ran (or timed out) in the model, so its time is real.
   */
  public static final Set<String> LATENCY_OUTCOMES = Set.of(SUCCESS, SERVER_ERROR);

  private ServerMetricNames() {}
}
