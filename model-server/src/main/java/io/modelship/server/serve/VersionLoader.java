package io.modelship.server.serve;

import io.modelship.server.serve.batch.BatchPolicy;
import io.modelship.server.serve.batch.BatchQueue;
import io.modelship.server.serve.model.ModelArtifact;
import io.modelship.server.serve.model.OnnxModel;
import io.modelship.server.serve.model.Tensor;
import io.modelship.server.serve.registry.ModelVersion;
import io.modelship.server.serve.registry.ServerHealth;
import java.time.Duration;
import java.util.List;
import java.util.function.IntSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings one model version from its directory to ready: loads the ONNX file, starts its batch queue, warms it up
 * in process and then through the server's own HTTP path, and marks it ready. The first version a server serves
 * and every version loaded beside it in place go the same way.
 */
final class VersionLoader {
  private static final Logger LOG = LoggerFactory.getLogger(VersionLoader.class);
  /** Batching is for throughput; one worker keeps FIFO strict while ONNX Runtime uses the cores inside a run. */
  private static final int WORKERS_PER_MODEL = 1;

  private final ServeOptions options;
  private final ServeHooks hooks;
  private final ServerHealth health;
  private final IntSupplier port;
  private final String warmUpToken;

  VersionLoader(ServeOptions options, ServeHooks hooks, ServerHealth health, IntSupplier port, String warmUpToken) {
    this.options = options;
    this.hooks = hooks;
    this.health = health;
    this.port = port;
    this.warmUpToken = warmUpToken;
  }

  /**
   * HTTP warm-up requests for a version loaded beside a serving one. The process has been answering requests all
   * along, so the request path is JIT-compiled already; what is new is the ONNX Runtime session (warmed by the
   * engine iterations) and the version's queue, which a few hundred requests through the real path exercise. The
   * full count (5,000 by default, up to 15 s) made every in-place swap under load take about 10 s.
   */
  static final int IN_PLACE_HTTP_WARM_UPS = 200;

  /** Loads and warms up the first version the server serves, from {@code artifact}; on return it is ready. */
  void load(ModelVersion modelVersion, ModelArtifact artifact) throws Exception {
    load(modelVersion, artifact, options.warmupHttpRequests());
  }

  /** Loads and warms up a version beside one that serves (in place); on return it is ready. */
  void loadBeside(ModelVersion modelVersion, ModelArtifact artifact) throws Exception {
    load(modelVersion, artifact, Math.min(options.warmupHttpRequests(), IN_PLACE_HTTP_WARM_UPS));
  }

  private void load(ModelVersion modelVersion, ModelArtifact artifact, int httpWarmUps) throws Exception {
    String name = modelVersion.name();
    String version = modelVersion.version();
    long loadStart = System.nanoTime();
    OnnxModel model = OnnxModel.load(artifact.onnxFile(), name, options.device());
    Duration loadTook = Duration.ofNanos(System.nanoTime() - loadStart);
    modelVersion.metrics().loaded(loadTook);
    int maxBatchSize = options.maxBatchSize().orElse(BatchPolicy.defaultMaxBatchSize(model.onGpu()));
    BatchPolicy policy = new BatchPolicy(maxBatchSize, options.maxBatchDelay());
    String label = name + ":" + version;
    BatchQueue queue;
    try {
      queue = new BatchQueue(label, policy, model.signature().batchable(), model::newRunner,
          WORKERS_PER_MODEL, options.maxQueue(), modelVersion.metrics(), hooks.beforeBatch(),
          error -> health.fatal("running " + label, error));
    } catch (RuntimeException | Error e) {
      model.close();
      throw e;
    }
    int maxRows = options.maxRequestRows()
        .orElseGet(() -> ModelServer.defaultMaxRows(model.signature(), maxBatchSize));
    modelVersion.loaded(model, queue, maxRows);
    LOG.info("{}: loaded in {} ms; dynamic batching {}", label, loadTook.toMillis(),
        queue.batching() ? "up to " + policy.maxBatchSize() + " rows, " + policy.maxDelay().toMillis() + " ms"
            : "off (" + (policy.maxBatchSize() == 1 ? "max batch size 1" : "the model has no open batch dimension")
                + ")");

    long warmStart = System.nanoTime();
    List<Tensor> example = WarmUp.run(label, queue, model.signature(), artifact.inputExample(),
        options.warmupIterations(), maxBatchSize, hooks.beforeWarmUpIteration());
    HttpWarmUp.run(label, options.host(), port.getAsInt(), warmUpToken, name, version, example, httpWarmUps);
    Duration warmTook = Duration.ofNanos(System.nanoTime() - warmStart);
    modelVersion.metrics().warmedUp(warmTook);
    modelVersion.markReady();
    LOG.info("{}: ready; warm-up {} ms", label, warmTook.toMillis());
  }
}
