package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What only a whole process shows: how it behaves when its heap runs out, and what it leaves on the machine. */
class ProcessHealthTest {
  @TempDir Path tmp;

  /**
   * A legal request whose answer does not fit in a small heap: the client gets a 500 at once instead of waiting
   * for its own timeout, the request is counted, and the server stops reporting ready and live so Kubernetes
   * restarts it.
   */
  @Test
  void anAnswerThatRunsTheHeapOutIsStillAnsweredAndTheServerReportsUnhealthy() throws Exception {
    Path modelDir = Files.createDirectories(tmp.resolve("model"));
    OnnxModels.writeWide(modelDir, 262_144);
    StringBuilder rows = new StringBuilder();
    for (int i = 0; i < 32; i++) {
      rows.append(i == 0 ? "" : ",").append("1,2,3,4");
    }
    String body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[32,4],\"datatype\":\"FP32\",\"data\":[" + rows + "]}]}";

    try (ServeProcess serve = ServeProcess.start(modelDir, List.of("-Xmx96m"), List.of("--model-name", "wide",
        "--warmup-iterations", "1", "--warmup-http-requests", "0", "--max-batch-size", "1"), Map.of())) {
      serve.awaitReady();

      HttpResponse<String> answer = serve.post("/v2/models/wide/infer", body, Duration.ofSeconds(60));

      assertThat(answer.statusCode()).as(serve.output()).isEqualTo(500);
      assertThat(answer.body()).contains("ran out of memory");
      assertThat(serve.status("/v2/health/ready")).isEqualTo(503);
      assertThat(serve.status("/v2/health/live")).isEqualTo(503);
      assertThat(serve.output()).contains("OutOfMemoryError while");
    }
  }

  /**
   * ONNX Runtime 1.29 sends telemetry from Linux unless ORT_DISABLE_TELEMETRY is set before it starts: a device id
   * under ~/.cache/Microsoft, /tmp/mat-debug-PID.log, uploads to Microsoft. The server switches it off itself,
   * even when neither the image nor the pod set the variable.
   */
  @Test
  void onnxRuntimeTelemetryIsOffWithoutTheVariable() throws Exception {
    Path modelDir = Files.createDirectories(tmp.resolve("model"));
    Path home = Files.createDirectories(tmp.resolve("home"));
    OnnxModels.writeMlp(modelDir, Mlp.small());
    Map<String, String> env = new HashMap<>();
    env.put("HOME", home.toString());
    env.put("XDG_CACHE_HOME", null);
    env.put("ORT_DISABLE_TELEMETRY", null);

    try (ServeProcess serve = ServeProcess.start(modelDir, List.of("-Duser.home=" + home), List.of("--model-name",
        "iris", "--warmup-iterations", "2", "--warmup-http-requests", "2"), env)) {
      serve.awaitReady();
      long pid = serve.process.pid();

      assertThat(home.resolve(".cache/Microsoft")).doesNotExist();
      assertThat(Path.of("/tmp/mat-debug-" + pid + ".log")).doesNotExist();
      assertThat(serve.output().toLowerCase()).doesNotContain("telemetry");
    }
  }
}
