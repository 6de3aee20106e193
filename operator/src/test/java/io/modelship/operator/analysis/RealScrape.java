package io.modelship.operator.analysis;

/**
 * What a real model server (this repository's, model "open" version "1") answered on GET /metrics after two
 * successful requests, one that failed inside ONNX Runtime (500) and one with a bad shape (400). Captured once so
 * the parser is tested on the exact shape Micrometer writes; the live server test re-checks it on every run.
 */
final class RealScrape {
  static final String OPEN_MODEL = """
# HELP modelship_inference_batch_size Rows per model run after dynamic batching
# TYPE modelship_inference_batch_size histogram
modelship_inference_batch_size_bucket{model="open",version="1",le="1.0"} 3
modelship_inference_batch_size_bucket{model="open",version="1",le="2.0"} 3
modelship_inference_batch_size_bucket{model="open",version="1",le="4.0"} 3
modelship_inference_batch_size_bucket{model="open",version="1",le="8.0"} 3
modelship_inference_batch_size_bucket{model="open",version="1",le="16.0"} 3
modelship_inference_batch_size_bucket{model="open",version="1",le="32.0"} 3
modelship_inference_batch_size_bucket{model="open",version="1",le="64.0"} 3
modelship_inference_batch_size_bucket{model="open",version="1",le="128.0"} 3
modelship_inference_batch_size_bucket{model="open",version="1",le="256.0"} 3
modelship_inference_batch_size_bucket{model="open",version="1",le="+Inf"} 3
modelship_inference_batch_size_count{model="open",version="1"} 3
modelship_inference_batch_size_sum{model="open",version="1"} 3.0
# HELP modelship_inference_batch_size_max Rows per model run after dynamic batching
# TYPE modelship_inference_batch_size_max gauge
modelship_inference_batch_size_max{model="open",version="1"} 1.0
# HELP modelship_inference_compute_seconds Time the model took to run one batch
# TYPE modelship_inference_compute_seconds histogram
modelship_inference_compute_seconds_bucket{model="open",version="1",le="0.001"} 0
modelship_inference_compute_seconds_bucket{model="open",version="1",le="0.002"} 1
modelship_inference_compute_seconds_bucket{model="open",version="1",le="0.005"} 2
modelship_inference_compute_seconds_bucket{model="open",version="1",le="0.01"} 2
modelship_inference_compute_seconds_bucket{model="open",version="1",le="0.025"} 3
modelship_inference_compute_seconds_bucket{model="open",version="1",le="0.05"} 3
modelship_inference_compute_seconds_bucket{model="open",version="1",le="0.1"} 3
modelship_inference_compute_seconds_bucket{model="open",version="1",le="0.25"} 3
modelship_inference_compute_seconds_bucket{model="open",version="1",le="0.5"} 3
modelship_inference_compute_seconds_bucket{model="open",version="1",le="1.0"} 3
modelship_inference_compute_seconds_bucket{model="open",version="1",le="2.5"} 3
modelship_inference_compute_seconds_bucket{model="open",version="1",le="5.0"} 3
modelship_inference_compute_seconds_bucket{model="open",version="1",le="10.0"} 3
modelship_inference_compute_seconds_bucket{model="open",version="1",le="+Inf"} 3
modelship_inference_compute_seconds_count{model="open",version="1"} 3
modelship_inference_compute_seconds_sum{model="open",version="1"} 0.020048764
# HELP modelship_inference_compute_seconds_max Time the model took to run one batch
# TYPE modelship_inference_compute_seconds_max gauge
modelship_inference_compute_seconds_max{model="open",version="1"} 0.016575276
# HELP modelship_inference_latency_seconds Inference request latency, from the request's arrival to the response's end
# TYPE modelship_inference_latency_seconds histogram
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="0.001"} 0
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="0.002"} 0
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="0.005"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="0.01"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="0.025"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="0.05"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="0.1"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="0.25"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="0.5"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="1.0"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="2.5"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="5.0"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="10.0"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="client_error",version="1",le="+Inf"} 1
modelship_inference_latency_seconds_count{model="open",outcome="client_error",version="1"} 1
modelship_inference_latency_seconds_sum{model="open",outcome="client_error",version="1"} 0.00305239
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="0.001"} 0
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="0.002"} 0
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="0.005"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="0.01"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="0.025"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="0.05"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="0.1"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="0.25"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="0.5"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="1.0"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="2.5"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="5.0"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="10.0"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="server_error",version="1",le="+Inf"} 1
modelship_inference_latency_seconds_count{model="open",outcome="server_error",version="1"} 1
modelship_inference_latency_seconds_sum{model="open",outcome="server_error",version="1"} 0.004392628
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="0.001"} 0
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="0.002"} 0
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="0.005"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="0.01"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="0.025"} 1
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="0.05"} 2
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="0.1"} 2
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="0.25"} 2
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="0.5"} 2
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="1.0"} 2
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="2.5"} 2
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="5.0"} 2
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="10.0"} 2
modelship_inference_latency_seconds_bucket{model="open",outcome="success",version="1",le="+Inf"} 2
modelship_inference_latency_seconds_count{model="open",outcome="success",version="1"} 2
modelship_inference_latency_seconds_sum{model="open",outcome="success",version="1"} 0.051982428
# HELP modelship_inference_latency_seconds_max Inference request latency, from the request's arrival to the response's end
# TYPE modelship_inference_latency_seconds_max gauge
modelship_inference_latency_seconds_max{model="open",outcome="client_error",version="1"} 0.00305239
modelship_inference_latency_seconds_max{model="open",outcome="server_error",version="1"} 0.004392628
modelship_inference_latency_seconds_max{model="open",outcome="success",version="1"} 0.047113551
# HELP modelship_inference_queue_depth Requests waiting in the batching queue
# TYPE modelship_inference_queue_depth gauge
modelship_inference_queue_depth{model="open",version="1"} 0.0
# HELP modelship_inference_queue_seconds Time a request waited in the batching queue before its batch ran
# TYPE modelship_inference_queue_seconds histogram
modelship_inference_queue_seconds_bucket{model="open",version="1",le="5.0E-5"} 0
modelship_inference_queue_seconds_bucket{model="open",version="1",le="1.0E-4"} 1
modelship_inference_queue_seconds_bucket{model="open",version="1",le="2.5E-4"} 3
modelship_inference_queue_seconds_bucket{model="open",version="1",le="5.0E-4"} 3
modelship_inference_queue_seconds_bucket{model="open",version="1",le="0.001"} 3
modelship_inference_queue_seconds_bucket{model="open",version="1",le="0.002"} 3
modelship_inference_queue_seconds_bucket{model="open",version="1",le="0.005"} 3
modelship_inference_queue_seconds_bucket{model="open",version="1",le="0.01"} 3
modelship_inference_queue_seconds_bucket{model="open",version="1",le="0.025"} 3
modelship_inference_queue_seconds_bucket{model="open",version="1",le="0.05"} 3
modelship_inference_queue_seconds_bucket{model="open",version="1",le="0.1"} 3
modelship_inference_queue_seconds_bucket{model="open",version="1",le="0.25"} 3
modelship_inference_queue_seconds_bucket{model="open",version="1",le="1.0"} 3
modelship_inference_queue_seconds_bucket{model="open",version="1",le="+Inf"} 3
modelship_inference_queue_seconds_count{model="open",version="1"} 3
modelship_inference_queue_seconds_sum{model="open",version="1"} 4.95785E-4
# HELP modelship_inference_queue_seconds_max Time a request waited in the batching queue before its batch ran
# TYPE modelship_inference_queue_seconds_max gauge
modelship_inference_queue_seconds_max{model="open",version="1"} 2.44106E-4
# HELP modelship_inference_requests_total Inference requests by outcome
# TYPE modelship_inference_requests_total counter
modelship_inference_requests_total{model="open",outcome="client_error",version="1"} 1.0
modelship_inference_requests_total{model="open",outcome="server_error",version="1"} 1.0
modelship_inference_requests_total{model="open",outcome="success",version="1"} 2.0
# HELP modelship_model_load_seconds Seconds the model took to load; -1 until loaded
# TYPE modelship_model_load_seconds gauge
modelship_model_load_seconds{model="open",version="1"} 0.188
# HELP modelship_model_ready 1 while the model version is ready to serve, else 0
# TYPE modelship_model_ready gauge
modelship_model_ready{model="open",version="1"} 1.0
# HELP modelship_model_warmup_seconds Seconds warm-up took before the model was ready; -1 until warmed up
# TYPE modelship_model_warmup_seconds gauge
modelship_model_warmup_seconds{model="open",version="1"} 0.0
""";

  private RealScrape() {}
}
