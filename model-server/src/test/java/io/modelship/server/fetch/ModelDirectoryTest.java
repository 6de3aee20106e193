package io.modelship.server.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The model directory's all-or-nothing rule, in both of its ways of swapping an artifact in. */
class ModelDirectoryTest {

  @TempDir Path tmp;

  @Test
  void inPlaceSwapForAMountPointReplacesTheOldArtifactAndMarksCompletionLast() throws Exception {
    Path models = Files.createDirectories(tmp.resolve("models"));
    Files.writeString(models.resolve("old.onnx"), "old");
    // What a fetch that crashed mid-download left behind.
    Files.createDirectories(models.resolve(".modelship/staging-crashed/part"));
    ModelDirectory dir = new ModelDirectory(models, false);

    Path staging = dir.stage();
    assertThat(models.resolve(".modelship/staging-crashed")).doesNotExist();
    assertThat(staging.getParent()).isEqualTo(models.resolve(".modelship"));
    Files.createDirectories(staging.resolve("sub"));
    Files.writeString(staging.resolve("model.onnx"), "new");
    Files.writeString(staging.resolve("sub/vocab.txt"), "v");
    dir.commit(staging, "{\"sha256\":\"x\"}\n");

    Map<String, byte[]> tree = Artifacts.readTree(models);
    assertThat(tree.keySet()).containsExactlyInAnyOrder("model.onnx", "sub/vocab.txt", ".modelship/artifact.json");
    assertThat(new String(tree.get(".modelship/artifact.json"), StandardCharsets.UTF_8)).contains("sha256");
    assertThat(staging).doesNotExist();
  }

  @Test
  void discardedStagingLeavesThePreviousArtifactAsItWas() throws Exception {
    Path models = Files.createDirectories(tmp.resolve("models"));
    Files.writeString(models.resolve("model.onnx"), "previous");
    for (boolean renameable : new boolean[] {true, false}) {
      ModelDirectory dir = new ModelDirectory(models, renameable);
      Path staging = dir.stage();
      Files.writeString(staging.resolve("model.onnx"), "half-written");
      dir.discard(staging);
      assertThat(models.resolve("model.onnx")).hasContent("previous");
      assertThat(staging).doesNotExist();
    }
  }

  @Test
  void renameSwapCleansWhatACrashedFetchLeftBesideTheModelDir() throws Exception {
    Path crashed = Files.createDirectories(tmp.resolve(".models.fetch-1234/sub"));
    Path models = tmp.resolve("models");
    ModelDirectory dir = ModelDirectory.at(models);

    Path staging = dir.stage();
    assertThat(crashed.getParent()).doesNotExist();
    Files.writeString(staging.resolve("model.onnx"), "m");
    dir.commit(staging, "{}\n");

    assertThat(models.resolve("model.onnx")).hasContent("m");
    assertThat(models.resolve(".modelship/artifact.json")).hasContent("{}");
    try (Stream<Path> entries = Files.list(tmp)) {
      assertThat(entries.map(p -> p.getFileName().toString())).containsExactly("models");
    }
  }

  @Test
  void artifactPathsThatWouldEscapeTheModelDirAreRefused() {
    for (String path : new String[] {"../etc/passwd", "a/../../b", "/abs", "a//b", ".modelship/artifact.json", ""}) {
      assertThatThrownBy(() -> new ArtifactFile(path, 1, path)).as(path).isInstanceOf(FetchFailure.class);
    }
    assertThat(new ArtifactFile("tokenizer/vocab.txt", 1, "k").relativePath()).isEqualTo("tokenizer/vocab.txt");
  }

  @Test
  void localArtifactDirectoryIsCopiedInRangesWithTheContractDigest() throws Exception {
    Path source = Files.createDirectories(tmp.resolve("mlruns/model"));
    byte[] big = Artifacts.randomBytes(2_500_000, 5);
    Files.write(source.resolve("model.onnx"), big);
    Files.writeString(source.resolve("MLmodel"), "flavors: {}\n");
    Path staging = Files.createDirectories(tmp.resolve("staging"));
    LocalArtifactStore store = new LocalArtifactStore(source, source.toUri().toString());

    try (Progress progress = new Progress(-1, 60_000)) {
      new ArtifactDownloader(3, 1024 * 1024, new RetryPolicy(1, Duration.ZERO, Duration.ZERO))
          .download(store, store.list(), staging, progress);
    }

    assertThat(store.isSingleFile()).isFalse();
    assertThat(staging.resolve("model.onnx")).hasBinaryContent(big);
    assertThat(ArtifactDigest.ofDirectory(staging, ModelDirectory.METADATA_DIR).sha256())
        .isEqualTo(
            Artifacts.manifestDigest(Map.of("model.onnx", big, "MLmodel", "flavors: {}\n".getBytes(StandardCharsets.UTF_8))));
  }

  @Test
  void directoryDigestSortsPathsBytewiseAsLcAllCSortDoes() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("artifact"));
    // Upper case before lower case, '-' before '.', '/' between: the order of bytes, not of locales.
    for (String name : new String[] {"b.txt", "B.txt", "a-b", "a.b", "a/b", "\u00e9.txt", "z"}) {
      Path file = dir.resolve(name);
      Files.createDirectories(file.getParent());
      Files.writeString(file, name);
    }
    String shell = Artifacts.shellDigest(dir);
    ArtifactDigest.Result digest = ArtifactDigest.ofDirectory(dir, ModelDirectory.METADATA_DIR);
    assertThat(digest.files()).isEqualTo(7);
    if (shell != null) {
      assertThat(digest.sha256()).isEqualTo(shell);
    }
  }
}
