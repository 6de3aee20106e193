package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code model-server serve} as a process: SIGTERM drains and the process exits 0, as Kubernetes expects. */
class SigtermTest {
  @TempDir Path modelDir;

  @Test
  void sigtermDrainsAndExitsZero() throws Exception {
    OnnxModels.writeMlp(modelDir, Mlp.small());
    try (ServeProcess serve = ServeProcess.start(modelDir, List.of(), List.of("--model-name", "iris",
        "--warmup-iterations", "2", "--warmup-http-requests", "2", "--drain-delay-ms", "50"), Map.of())) {
      serve.awaitReady();

      serve.process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its output

      assertThat(serve.process.waitFor(60, TimeUnit.SECONDS)).as(serve.output()).isTrue();
      serve.awaitOutput();
      assertThat(serve.process.exitValue()).as(serve.output()).isZero();
      // The port is left to the exit to close: a readiness probe never finds it closed while the process lives.
      assertThat(serve.output()).contains("SIGTERM received", "still serving for 50 ms", "draining",
          "drained; the port closes as the process exits");
    }
  }
}
