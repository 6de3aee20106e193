package io.modelship.server.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The artifact digest of the pod contract. One file: SHA-256 of its bytes. A directory: SHA-256 of the
 * {@code sha256sum} manifest of its regular files sorted bytewise by relative path, i.e. what
 * {@code (cd DIR && find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum) | sha256sum} prints,
 * so anyone can recompute it with coreutils.
 */
final class ArtifactDigest {

  private ArtifactDigest() {}

  /** Digest, total bytes and file count of what is on disk. */
  record Result(String sha256, long bytes, int files) {}

  static Result ofFile(Path file) throws IOException {
    return new Result(sha256(file), Files.size(file), 1);
  }

  /** @param exclude a top-level entry of {@code dir} that is not part of the artifact (the fetch metadata) */
  static Result ofDirectory(Path dir, String exclude) throws IOException {
    List<String> paths = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.filter(Files::isRegularFile)
          .map(path -> dir.relativize(path).toString().replace('\\', '/'))
          .filter(path -> exclude == null || !(path.equals(exclude) || path.startsWith(exclude + "/")))
          .forEach(paths::add);
    }
    // LC_ALL=C sort compares bytes, which is not String's UTF-16 order for characters beyond the BMP.
    paths.sort((a, b) -> Arrays.compareUnsigned(utf8(a), utf8(b)));
    MessageDigest manifest = newSha256();
    long bytes = 0;
    for (String path : paths) {
      Path file = dir.resolve(path);
      String line = sha256(file) + "  " + path + "\n";
      manifest.update(utf8(line));
      bytes += Files.size(file);
    }
    return new Result(HexFormat.of().formatHex(manifest.digest()), bytes, paths.size());
  }

  static String sha256(Path file) throws IOException {
    MessageDigest digest = newSha256();
    byte[] buffer = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buffer)) > 0) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
