package io.modelship.server.serve.registry;

import io.modelship.server.serve.batch.BatchQueue;
import io.modelship.server.serve.metrics.ModelMetrics;
import io.modelship.server.serve.model.InferenceRequest;
import io.modelship.server.serve.model.InferenceResult;
import io.modelship.server.serve.model.OnnxModel;
import io.modelship.server.serve.model.Signature;
import io.modelship.server.serve.model.Tensor;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One version of one model as the server holds it: its state, the loaded model and the batch queue in front of
 * it, and its meters. Several versions of a model may live side by side; each has its own queue so a slow or
 * failing version never holds up another. It never decides which version a request goes to.
 */
public final class ModelVersion {
  private final String name;
  private final String version;
  private final ModelMetrics metrics;
  private volatile ModelState state = ModelState.LOADING;
  private volatile OnnxModel model;
  private volatile BatchQueue queue;
  private volatile String failure;
  private volatile int maxRequestRows = Integer.MAX_VALUE;
  /** Requests that reached this version and are not answered yet (guarded by this). */
  private int inFlight;
  /** Taking no new requests: it is on its way out (guarded by this). */
  private boolean retiring;

  public ModelVersion(String name, String version, ModelMetrics metrics) {
    this.name = name;
    this.version = version;
    this.metrics = metrics;
  }

  public String name() {
    return name;
  }

  public String version() {
    return version;
  }

  public ModelMetrics metrics() {
    return metrics;
  }

  public ModelState state() {
    return state;
  }

  public boolean ready() {
    return state == ModelState.READY;
  }

  public Optional<String> failure() {
    return Optional.ofNullable(failure);
  }

  /** The signature, once loaded. */
  public Optional<Signature> signature() {
    OnnxModel loaded = model;
    return loaded == null ? Optional.empty() : Optional.of(loaded.signature());
  }

  /** The execution provider it runs on ("CPU", "CUDA (gpu 0)"), once loaded. */
  public Optional<String> executionProvider() {
    OnnxModel loaded = model;
    return loaded == null ? Optional.empty() : Optional.of(loaded.executionProvider());
  }

  /** The batch queue, once loaded. */
  public Optional<BatchQueue> queue() {
    return Optional.ofNullable(queue);
  }

  /** The model is loaded and its queue runs; {@code maxRows} bounds the rows one request may carry. */
  public void loaded(OnnxModel loadedModel, BatchQueue batchQueue, int maxRows) {
    this.model = loadedModel;
    this.queue = batchQueue;
    this.maxRequestRows = maxRows;
    this.state = ModelState.WARMING_UP;
  }

  public void markReady() {
    state = ModelState.READY;
    metrics.ready(true);
  }

  public void markFailed(String why) {
    failure = why;
    state = ModelState.FAILED_TO_LOAD;
    metrics.ready(false);
  }

  /** Checks a request against the signature; the message names the input and what was expected. */
  public Optional<String> check(InferenceRequest request) {
    Signature signature = signature().orElseThrow(() -> new IllegalStateException(name + " is not loaded"));
    return signature.check(request.inputs()).or(() -> signature.checkOutputs(request.requestedOutputs()));
  }

  /**
   * Whether the request carries more rows than one request may: the work a request causes (decoding, the model
   * run, encoding) grows with its rows, and one huge request must not hold the model for seconds.
   */
  public Optional<String> checkRows(InferenceRequest request) {
    long rows = request.inputs().stream().mapToLong(Tensor::rows).max().orElse(0);
    if (rows <= maxRequestRows) {
      return Optional.empty();
    }
    return Optional.of("the request has " + rows + " rows; model '" + name + "' takes at most " + maxRequestRows
        + " per request (--max-request-rows, MODELSHIP_MAX_REQUEST_ROWS): split it into smaller requests");
  }

  /**
   * Queues a request that passed {@link #check}. {@code announced} says whether the caller announced it to the
   * queue when it started to arrive; {@code warmUp} keeps it out of the queue's meters and bound.
   */
  public CompletableFuture<InferenceResult> infer(InferenceRequest request, boolean announced, boolean warmUp) {
    Signature signature = signature().orElseThrow(() -> new IllegalStateException(name + " is not loaded"));
    List<Tensor> ordered = signature.inDeclarationOrder(request.inputs());
    return queue.submit(ordered, announced, warmUp).thenApply(outputs -> select(outputs, request));
  }

  private static InferenceResult select(List<Tensor> outputs, InferenceRequest request) {
    if (request.requestedOutputs().isEmpty()) {
      return new InferenceResult(outputs);
    }
    return new InferenceResult(
        outputs.stream().filter(t -> request.requestedOutputs().contains(t.name())).toList());
  }

  /**
   * A request reaches this version: false once it is retiring, and the caller routes the request again. Every
   * {@code true} is matched by one {@link #exit()}.
   */
  public synchronized boolean enter() {
    if (retiring) {
      return false;
    }
    inFlight++;
    return true;
  }

  /** A request that {@link #enter() entered} has its answer. */
  public synchronized void exit() {
    inFlight--;
    if (inFlight == 0) {
      notifyAll();
    }
  }

  /** From now on no request enters; those in flight finish ({@link #awaitIdle}). */
  public synchronized void retire() {
    retiring = true;
  }

  public synchronized boolean retiring() {
    return retiring;
  }

  public synchronized int inFlight() {
    return inFlight;
  }

  /** Waits until no request that entered is still unanswered; false when {@code timeout} passed first. */
  public synchronized boolean awaitIdle(java.time.Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (inFlight > 0) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  /** Stops the queue (after it empties) and frees the model. */
  public void unload() {
    state = ModelState.UNLOADING;
    metrics.ready(false);
    BatchQueue draining = queue;
    if (draining != null) {
      draining.close();
    }
    OnnxModel loaded = model;
    if (loaded != null) {
      loaded.close();
    }
  }
}
