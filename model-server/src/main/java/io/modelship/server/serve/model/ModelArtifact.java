package io.modelship.server.serve.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What {@code fetch} left in the model directory, as {@code serve} reads it: the ONNX file ({@code model.onnx},
 * or the only {@code *.onnx} below the directory), the version recorded in {@code .modelship/artifact.json}, and
 * an optional {@code input_example.json} beside the model that warm-up uses. It only reads; it never writes there.
 */
public record ModelArtifact(Path onnxFile, Optional<String> recordedVersion, Optional<Path> inputExample) {

  public static final String INPUT_EXAMPLE = "input_example.json";
  static final Path ARTIFACT_RECORD = Path.of(".modelship", "artifact.json");

  public static ModelArtifact locate(Path modelDir) throws IOException {
    if (!Files.isDirectory(modelDir)) {
      throw new IOException("model directory " + modelDir + " does not exist");
    }
    Path onnx = modelDir.resolve("model.onnx");
    if (!Files.isRegularFile(onnx)) {
      List<Path> found;
      try (Stream<Path> files = Files.walk(modelDir)) {
        found =
            files
                .filter(Files::isRegularFile)
                .filter(p -> p.getFileName().toString().endsWith(".onnx"))
                .sorted()
                .toList();
      }
      if (found.size() != 1) {
        throw new IOException(
            "expected model.onnx or exactly one *.onnx file below " + modelDir + ", found " + found);
      }
      onnx = found.get(0);
    }
    Path example = onnx.resolveSibling(INPUT_EXAMPLE);
    return new ModelArtifact(
        onnx,
        recordedVersion(modelDir.resolve(ARTIFACT_RECORD)),
        Files.isRegularFile(example) ? Optional.of(example) : Optional.empty());
  }

  private static Optional<String> recordedVersion(Path record) throws IOException {
    if (!Files.isRegularFile(record)) {
      return Optional.empty();
    }
    JsonNode version = new ObjectMapper().readTree(record.toFile()).path("modelVersion");
    // S3 and HTTP sources record "modelVersion": null; a JSON null is no version, not the word "null".
    return (version.isTextual() || version.isNumber()) && !version.asText().isBlank()
        ? Optional.of(version.asText())
        : Optional.empty();
  }
}
