package io.modelship.bench;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The ceiling for the model server: ONNX Runtime's {@code OrtSession.run()} in process, no HTTP, no JSON, no
 * batching. One session, built like the server builds its own (intra-op threads = the CPUs this JVM may use),
 * shared by {@code threads} caller threads, each running a one-row FP32 input (the same shape an HTTP request
 * carries) in a closed loop: create the input tensor, run, copy the output out, free both. A warm-up phase
 * runs first and is not counted. Prints one line per concurrency: {@code ORT {json}}.
 *
 * <p>usage: {@code OrtBench MODEL.onnx LABEL WARMUP_S DURATION_S THREADS...}. Every loop ends at its deadline
 * and after at most {@link #MAX_CALLS_PER_THREAD} calls, whichever comes first. {@code -Dort.rows=N} runs N rows
 * per call instead of one (the batch the server's batcher would form): the ceiling batching can reach, in
 * {@code rowsPerSec}.
 */
public final class OrtBench {
  private static final int MAX_CALLS_PER_THREAD = 20_000_000;
  private static final int ROWS = Integer.getInteger("ort.rows", 1);

  private OrtBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 5) {
      System.err.println("usage: OrtBench MODEL.onnx LABEL WARMUP_S DURATION_S THREADS...");
      System.exit(2);
    }
    String model = args[0];
    String label = args[1];
    double warmupS = Double.parseDouble(args[2]);
    double durationS = Double.parseDouble(args[3]);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(Runtime.getRuntime().availableProcessors());
      try (OrtSession session = env.createSession(model, options)) {
        Map.Entry<String, NodeInfo> input = session.getInputInfo().entrySet().iterator().next();
        long features = ((TensorInfo) input.getValue().getInfo()).getShape()[1];
        float[] row = new float[(int) features * ROWS];
        Random random = new Random(2024);
        for (int i = 0; i < row.length; i++) {
          row[i] = random.nextFloat() * 4 - 2;
        }
        for (int a = 4; a < args.length; a++) {
          int threads = Integer.parseInt(args[a]);
          measure(env, session, input.getKey(), row, threads, warmupS); // warm-up, discarded
          Result result = measure(env, session, input.getKey(), row, threads, durationS);
          System.out.printf(Locale.ROOT,
              "ORT {\"model\":\"%s\",\"threads\":%d,\"intraOpThreads\":%d,\"rows\":%d,\"calls\":%d,"
                  + "\"seconds\":%.3f,\"opsPerSec\":%.1f,\"rowsPerSec\":%.1f,\"p50Ms\":%.4f,\"p99Ms\":%.4f,"
                  + "\"maxMs\":%.4f}%n",
              label, threads, Runtime.getRuntime().availableProcessors(), ROWS, result.calls, result.seconds,
              result.calls / result.seconds, result.calls * ROWS / result.seconds, result.percentileMs(50),
              result.percentileMs(99),
              result.percentileMs(100));
        }
      }
    }
  }

  private static Result measure(OrtEnvironment env, OrtSession session, String inputName, float[] row,
      int threads, double seconds) throws InterruptedException {
    long[][] latencies = new long[threads][];
    int[] counts = new int[threads];
    Throwable[] failures = new Throwable[threads];
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    long durationNs = (long) (seconds * 1e9);
    long[] window = new long[2];
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread worker = new Thread(() -> {
        long[] own = new long[1 << 16];
        int n = 0;
        long[] shape = {ROWS, row.length / ROWS};
        try {
          start.await();
          long deadline = window[0] + durationNs;
          while (n < MAX_CALLS_PER_THREAD) {
            long begin = System.nanoTime();
            if (begin >= deadline) {
              break;
            }
            try (OnnxTensor tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(row), shape);
                OrtSession.Result result = session.run(Map.of(inputName, tensor))) {
              float[][] out = (float[][]) result.get(0).getValue();
              if (out.length != ROWS) {
                throw new IllegalStateException("unexpected output rows " + out.length);
              }
            }
            if (n == own.length) {
              own = Arrays.copyOf(own, own.length * 2);
            }
            own[n++] = System.nanoTime() - begin;
          }
        } catch (OrtException | RuntimeException | InterruptedException e) {
          failures[id] = e;
        }
        latencies[id] = own;
        counts[id] = n;
      }, "ort-bench-" + t);
      workers.add(worker);
      worker.start();
    }
    window[0] = System.nanoTime();
    start.countDown();
    for (Thread worker : workers) {
      worker.join(TimeUnit.SECONDS.toMillis((long) seconds + 60));
      if (worker.isAlive()) {
        throw new IllegalStateException(worker.getName() + " did not stop in time");
      }
    }
    window[1] = System.nanoTime();
    for (Throwable failure : failures) {
      if (failure != null) {
        throw new IllegalStateException("a benchmark thread failed", failure);
      }
    }
    int total = Arrays.stream(counts).sum();
    long[] all = new long[total];
    int at = 0;
    for (int t = 0; t < threads; t++) {
      System.arraycopy(latencies[t], 0, all, at, counts[t]);
      at += counts[t];
    }
    Arrays.sort(all);
    return new Result(total, (window[1] - window[0]) / 1e9, all);
  }

  private record Result(long calls, double seconds, long[] sortedNs) {
    double percentileMs(double p) {
      if (sortedNs.length == 0) {
        return Double.NaN;
      }
      int index = (int) Math.ceil(p / 100.0 * sortedNs.length) - 1;
      return sortedNs[Math.max(0, Math.min(sortedNs.length - 1, index))] / 1e6;
    }
  }
}
