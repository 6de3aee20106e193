package io.modelship.server.serve.model;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.onnxruntime.engine.OrtNDManager;
import ai.djl.onnxruntime.engine.OrtSymbolBlock;
import ai.djl.translate.NoopTranslator;
import ai.djl.translate.TranslateException;
import ai.djl.util.cuda.CudaUtils;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX model loaded through DJL on the OnnxRuntime engine, with the execution provider chosen for it and
 * the signature it declares. It owns the DJL model (and the ONNX Runtime session inside it) and hands out one
 * {@link ModelRunner} per worker thread. It never decides about batching, queues or HTTP.
 */
public final class OnnxModel implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OnnxModel.class);
  private static final String ENGINE = "OnnxRuntime";

  private final Model model;
  private final Signature signature;
  private final String executionProvider;
  private final boolean gpu;

  private OnnxModel(Model model, Signature signature, String executionProvider, boolean gpu) {
    this.model = model;
    this.signature = signature;
    this.executionProvider = executionProvider;
    this.gpu = gpu;
  }

  /**
   * Loads the model. DJL's {@code Model.load} hides the session's typed input and output descriptions, which
   * request checks and v2 metadata need, so the session is created here with the chosen execution provider and
   * handed to DJL's own {@link OrtSymbolBlock}; from then on DJL owns it and closing the model closes it.
   */
  public static OnnxModel load(Path onnxFile, String name, DevicePreference preference) {
    // DJL creates the process-wide ONNX Runtime environment with its own settings; it must come first so the
    // getEnvironment() below returns that same environment.
    Engine engine = Engine.getEngine(ENGINE);
    OrtEnvironment environment = OrtEnvironment.getEnvironment();
    disableTelemetry(environment);
    boolean cuda = chooseCuda(preference);
    Device device = cuda ? Device.gpu(0) : Device.cpu();
    Model model = Model.newInstance(name, device, ENGINE);
    OrtSession session = null;
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      // ONNX Runtime counts host cores; the JVM counts the container's CPU limit, which is what we may use.
      options.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
      if (cuda) {
        options.addCUDA(0);
      }
      session = environment.createSession(onnxFile.toString(), options);
      Signature signature = describe(session);
      model.setBlock(new OrtSymbolBlock(session, (OrtNDManager) model.getNDManager()));
      String provider = cuda ? "CUDA (gpu 0)" : "CPU";
      // DJL reports the ONNX Runtime version it was built against; the environment knows the one loaded.
      LOG.info(
          "loaded {} with DJL {} on ONNX Runtime {}: execution provider {}, inputs {}, outputs {}",
          onnxFile, engine.getEngineName(), environment.getVersion(), provider, signature.inputs(),
          signature.outputs());
      return new OnnxModel(model, signature, provider, cuda);
    } catch (OrtException | RuntimeException e) {
      closeQuietly(session);
      model.close();
      throw new IllegalStateException("cannot load " + onnxFile + ": " + e.getMessage(), e);
    }
  }

  /** Whether the model runs on a GPU (CUDA), not the host's CPU. */
  public boolean onGpu() {
    return gpu;
  }

  /**
   * Belt and braces: Main sets ORT_DISABLE_TELEMETRY before ONNX Runtime loads, which is what stops it entirely;
   * this stops whatever events the environment would still send if that variable were lost.
   */
  private static void disableTelemetry(OrtEnvironment environment) {
    try {
      environment.setTelemetry(false);
    } catch (OrtException | RuntimeException e) {
      LOG.debug("cannot switch ONNX Runtime telemetry off through its API", e);
    }
  }

  private static boolean chooseCuda(DevicePreference preference) {
    if (preference == DevicePreference.CPU) {
      LOG.info("execution provider CPU: --device cpu");
      return false;
    }
    boolean gpuBuild = OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA);
    // Probe for a GPU only in the GPU build: the probe loads the CUDA runtime, which the CPU image lacks.
    int gpus = gpuBuild ? CudaUtils.getGpuCount() : 0;
    if (gpuBuild && gpus > 0) {
      return true;
    }
    String why = gpuBuild ? "no GPU is visible" : "this is the CPU build of ONNX Runtime";
    if (preference == DevicePreference.GPU) {
      throw new IllegalStateException("--device gpu, but " + why);
    }
    LOG.info("execution provider CPU: {}", why);
    return false;
  }

  private static Signature describe(OrtSession session) throws OrtException {
    List<TensorSpec> inputs = new ArrayList<>();
    for (NodeInfo node : session.getInputInfo().values()) {
      inputs.add(
          spec(node)
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "input '" + node.getName() + "' has type " + node.getInfo()
                              + "; supported tensor datatypes are " + Datatype.supportedNames())));
    }
    List<TensorSpec> outputs = new ArrayList<>();
    for (NodeInfo node : session.getOutputInfo().values()) {
      Optional<TensorSpec> spec = spec(node);
      if (spec.isPresent()) {
        outputs.add(spec.get());
      } else {
        LOG.warn("output '{}' ({}) is not a supported tensor; it is left out of responses",
            node.getName(), node.getInfo());
      }
    }
    if (outputs.isEmpty()) {
      throw new IllegalStateException("the model has no output this server can return");
    }
    return new Signature(inputs, outputs);
  }

  private static Optional<TensorSpec> spec(NodeInfo node) {
    if (!(node.getInfo() instanceof TensorInfo info)) {
      return Optional.empty();
    }
    return Datatype.fromOnnx(info.type).map(d -> new TensorSpec(node.getName(), d, info.getShape()));
  }

  public Signature signature() {
    return signature;
  }

  public String executionProvider() {
    return executionProvider;
  }

  /** A runner for one worker thread: DJL predictors are not thread-safe, the session underneath is. */
  public ModelRunner newRunner() {
    return new DjlRunner(model, signature);
  }

  @Override
  public void close() {
    model.close();
  }

  private static void closeQuietly(OrtSession session) {
    if (session == null) {
      return;
    }
    try {
      session.close();
    } catch (OrtException | RuntimeException e) {
      LOG.debug("closing a half-loaded session failed", e);
    }
  }

  /** Feeds named NDArrays to a DJL predictor without a translator and copies the outputs out. */
  private static final class DjlRunner implements ModelRunner {
    private final Model model;
    private final Signature signature;
    private final Predictor<NDList, NDList> predictor;

    DjlRunner(Model model, Signature signature) {
      this.model = model;
      this.signature = signature;
      this.predictor = model.newPredictor(new NoopTranslator());
    }

    @Override
    public List<Tensor> run(List<Tensor> inputs) {
      // Every native tensor of this run, inputs and outputs, lives in this scope and is freed with it.
      try (NDManager scope = model.getNDManager().newSubManager()) {
        NDList list = new NDList(inputs.size());
        for (Tensor input : inputs) {
          NDArray array =
              scope.create(input.data(), new Shape(input.shape()), input.datatype().djlType());
          array.setName(input.name());
          list.add(array);
        }
        NDList produced = predictor.predict(list);
        Map<String, NDArray> byName = new HashMap<>();
        for (NDArray array : produced) {
          byName.put(array.getName(), array);
        }
        List<Tensor> outputs = new ArrayList<>(signature.outputs().size());
        for (TensorSpec spec : signature.outputs()) {
          NDArray array = byName.get(spec.name());
          if (array == null) {
            throw new InferenceException("the model produced no output '" + spec.name() + "'");
          }
          ByteBuffer copy = array.toByteBuffer();
          outputs.add(new Tensor(spec.name(), spec.datatype(), array.getShape().getShape(), copy));
        }
        return outputs;
      } catch (TranslateException | RuntimeException e) {
        if (e instanceof InferenceException known) {
          throw known;
        }
        throw new InferenceException("inference failed: " + shortCause(e), e);
      }
    }

    @Override
    public void close() {
      predictor.close();
    }
  }

  /** The innermost message, first line only and bounded, so engine detail never floods a response. */
  static String shortCause(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    String firstLine = message.lines().findFirst().orElse("");
    return firstLine.length() > 200 ? firstLine.substring(0, 200) + "..." : firstLine;
  }
}
