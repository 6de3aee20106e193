package io.modelship.server.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import io.modelship.server.onnx.OnnxReference;
import io.modelship.server.testing.PythonVenv;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Open Inference Protocol clients people use, from PyPI and unchanged: tritonclient's HTTP client and
 * KServe's REST client, for health, metadata and inference in JSON and binary tensor data modes. Answers are
 * checked against ONNX Runtime run directly on the same inputs.
 */
class ProtocolClientsTest {
  static final String TRITONCLIENT = "tritonclient[http]==2.73.0";
  static final String KSERVE = "kserve==0.21.0";
  @TempDir Path tmp;

  @Test
  void tritonclientAndKserveClientsWorkAsTheyAre() throws Exception {
    Optional<String> unavailable = PythonVenv.unavailableReason();
    if (unavailable.isPresent()) {
      System.out.println("SKIPPED ProtocolClientsTest: " + unavailable.get());
    }
    assumeTrue(unavailable.isEmpty(), unavailable.orElse(""));
    Path venv = PythonVenv.create("oip-clients-2.73.0-0.21.0", TRITONCLIENT, KSERVE);

    Path modelDir = Files.createDirectories(tmp.resolve("model"));
    Mlp mlp = Mlp.small();
    float[][] rows = OnnxModels.mlpInputs(mlp, 4, 21);
    float[][] expected;
    try (OnnxReference reference = new OnnxReference(OnnxModels.writeMlp(modelDir, mlp))) {
      expected = reference.runFloat(Mlp.INPUT, rows);
    }
    ObjectNode testCase = RunningServer.JSON.createObjectNode()
        .put("model", "iris").put("version", "5").put("input", Mlp.INPUT).put("output", Mlp.OUTPUT);
    testCase.set("rows", RunningServer.JSON.valueToTree(rows));
    testCase.set("expected", RunningServer.JSON.valueToTree(expected));
    Path caseFile = Files.writeString(tmp.resolve("case.json"), testCase.toString());

    try (RunningServer running = RunningServer.startReady(TestServeOptions.defaults(modelDir, 0).withModel("iris", "5"))) {
      Process clients = new ProcessBuilder(venv.resolve("bin/python").toString(),
          PythonVenv.scripts().resolve("oip_clients.py").toString(),
          "127.0.0.1:" + running.server.port(), caseFile.toString())
          .redirectErrorStream(true).start();
      String output = new String(clients.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(clients.waitFor(5, TimeUnit.MINUTES)).as(output).isTrue();

      assertThat(clients.exitValue()).as(output).isZero();
      assertThat(output).contains(
          "ok triton infer (binary inputs True, binary outputs True)",
          "ok triton infer (binary inputs False, binary outputs False)",
          "ok triton infer by version with the client's defaults",
          "ok triton wrong shape is refused with the server's message",
          "ok kserve infer (binary inputs True, binary outputs True)",
          "ok kserve infer (binary inputs False, binary outputs False)",
          "all checks passed");
    }
  }
}
