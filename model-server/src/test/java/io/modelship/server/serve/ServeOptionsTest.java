package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelship.server.serve.model.DevicePreference;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Flags and variables as docs/pod-contract.md lists them; a flag wins over its variable. */
class ServeOptionsTest {

  @Test
  void defaultsFollowTheContract() {
    ServeOptions options = ServeOptions.parse(new String[0], Map.of()).options().orElseThrow();

    assertThat(options.modelDir()).isEqualTo(Path.of("/models"));
    assertThat(options.port()).isEqualTo(8080);
    assertThat(options.maxBatchSize()).as("by the device, once the model is loaded").isEmpty();
    assertThat(options.maxBatchDelay()).isEqualTo(Duration.ofMillis(2));
    assertThat(options.warmupIterations()).isEqualTo(10);
    assertThat(options.device()).isEqualTo(DevicePreference.AUTO);
    assertThat(options.apiKeyFile()).isEmpty();
    assertThat(options.maxBodyBytes()).isEqualTo(16L * 1024 * 1024);
    assertThat(options.maxQueue()).isEqualTo(1024);
    assertThat(options.drainDelay()).isEqualTo(Duration.ofSeconds(2));
    assertThat(options.warmupHttpRequests()).isEqualTo(5000);
    assertThat(options.maxConnectionAge()).isEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void queueDrainDelayAndHttpWarmUpReadTheirVariables() {
    Map<String, String> env = Map.of("MODELSHIP_MAX_QUEUE", "64", "MODELSHIP_DRAIN_DELAY_MS", "0",
        "MODELSHIP_WARMUP_HTTP_REQUESTS", "5");

    ServeOptions options = ServeOptions.parse(new String[] {"--max-queue=128"}, env).options().orElseThrow();

    assertThat(options.maxQueue()).isEqualTo(128);
    assertThat(options.drainDelay()).isZero();
    assertThat(options.warmupHttpRequests()).isEqualTo(5);
    assertThat(ServeOptions.parse(new String[] {"--max-queue", "0"}, Map.of()).problem())
        .contains("--max-queue must be between 1 and 10000000, was 0");
  }

  @Test
  void aFlagWinsOverItsVariable() {
    Map<String, String> env = Map.of("MODELSHIP_PORT", "9000", "MODELSHIP_MODEL_NAME", "from-env",
        "MODELSHIP_API_KEY_FILE", "/etc/modelship/api-key/api-key", "MODELSHIP_DEVICE", "gpu");

    ServeOptions options =
        ServeOptions.parse(new String[] {"--port", "9100", "--device=cpu"}, env).options().orElseThrow();

    assertThat(options.port()).isEqualTo(9100);
    assertThat(options.device()).isEqualTo(DevicePreference.CPU);
    assertThat(options.modelName()).contains("from-env");
    assertThat(options.apiKeyFile()).contains(Path.of("/etc/modelship/api-key/api-key"));
  }

  @Test
  void problemsComeBackAsMessages() {
    assertThat(ServeOptions.parse(new String[] {"--port", "http"}, Map.of()).problem())
        .contains("--port must be a whole number, was http");
    assertThat(ServeOptions.parse(new String[] {"--max-batch-size", "0"}, Map.of()).problem())
        .contains("--max-batch-size must be between 1 and 65536, was 0");
    assertThat(ServeOptions.parse(new String[] {"--device", "tpu"}, Map.of()).problem())
        .contains("--device must be auto, cpu or gpu, was tpu");
    assertThat(ServeOptions.parse(new String[] {"--colour", "blue"}, Map.of()).problem())
        .contains("unknown option --colour");
  }

  @Test
  void helpListsEveryFlagWithItsVariable() {
    assertThat(ServeOptions.parse(new String[] {"--help"}, Map.of()).help()).isTrue();
    assertThat(ServeOptions.help())
        .contains("--model-dir", "MODELSHIP_MODEL_DIR", "--model-name", "MODELSHIP_MODEL_NAME", "--model-version",
            "MODELSHIP_MODEL_VERSION", "--port", "MODELSHIP_PORT", "--max-batch-size", "MODELSHIP_MAX_BATCH_SIZE",
            "--max-batch-delay-ms", "MODELSHIP_MAX_BATCH_DELAY_MS", "--warmup-iterations",
            "MODELSHIP_WARMUP_ITERATIONS", "--device", "MODELSHIP_DEVICE", "--api-key-file",
            "MODELSHIP_API_KEY_FILE", "--max-body-bytes", "MODELSHIP_MAX_BODY_BYTES", "--max-queue", "MODELSHIP_MAX_QUEUE",
            "--drain-delay-ms", "MODELSHIP_DRAIN_DELAY_MS", "--warmup-http-requests",
            "MODELSHIP_WARMUP_HTTP_REQUESTS");
  }
}
