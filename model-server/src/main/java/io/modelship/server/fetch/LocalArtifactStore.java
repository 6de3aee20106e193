package io.modelship.server.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A file or directory on a path this container can see, which is what {@code get-download-uri} answers for a
 * registry whose artifacts live on a shared volume ({@code /mnt/mlruns/...} or {@code file:///...}).
 */
final class LocalArtifactStore implements ArtifactStore {

  private final Path root;
  private final String shown;

  LocalArtifactStore(Path root, String shown) {
    this.root = root;
    this.shown = shown;
  }

  @Override
  public String displayUri() {
    return Redactor.displayUri(shown);
  }

  @Override
  public boolean isSingleFile() {
    return Files.isRegularFile(root);
  }

  @Override
  public List<ArtifactFile> list() {
    try {
      if (Files.isRegularFile(root)) {
        return List.of(new ArtifactFile(root.getFileName().toString(), Files.size(root), root.toString()));
      }
      if (!Files.isDirectory(root)) {
        throw FetchFailure.permanent(
            "local artifact path not found: " + root
                + " (the registry points at a path that is not mounted in this container)");
      }
      List<ArtifactFile> files = new ArrayList<>();
      try (Stream<Path> walk = Files.walk(root)) {
        for (Path file : (Iterable<Path>) walk.filter(Files::isRegularFile).sorted()::iterator) {
          String relative = root.relativize(file).toString().replace('\\', '/');
          files.add(new ArtifactFile(relative, Files.size(file), file.toString()));
        }
      }
      if (files.isEmpty()) {
        throw FetchFailure.permanent("local artifact directory is empty: " + root);
      }
      return files;
    } catch (IOException e) {
      throw FetchFailure.permanent("cannot read local artifact " + root + ": " + e.getClass().getSimpleName());
    }
  }

  @Override
  public boolean supportsRanges(ArtifactFile file) {
    return true;
  }

  @Override
  public InputStream open(ArtifactFile file, long from, long to) throws IOException {
    FileChannel channel = FileChannel.open(Path.of(file.location()), StandardOpenOption.READ);
    channel.position(from);
    InputStream whole = Channels.newInputStream(channel);
    if (to < 0) {
      return whole;
    }
    return new java.io.FilterInputStream(whole) {
      private long left = to - from + 1;

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (left <= 0) {
          return -1;
        }
        int n = super.read(b, off, (int) Math.min(len, left));
        if (n > 0) {
          left -= n;
        }
        return n;
      }
    };
  }
}
