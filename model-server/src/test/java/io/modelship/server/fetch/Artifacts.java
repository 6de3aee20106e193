package io.modelship.server.fetch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Test artifacts and independent ways to compute their digests. */
final class Artifacts {

  private Artifacts() {}

  static byte[] randomBytes(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The contract's directory digest written out from its definition, for files given in memory. */
  static String manifestDigest(Map<String, byte[]> files) {
    StringBuilder manifest = new StringBuilder();
    // Test names are ASCII, where String order is byte order.
    new TreeMap<>(files).forEach((path, bytes) -> manifest.append(sha256(bytes)).append("  ").append(path).append('\n'));
    return sha256(manifest.toString().getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The contract's own shell line, run for real, when bash and coreutils are there (null when not): the digest
   * the operator documents must be the one fetch computes.
   */
  static String shellDigest(Path dir) throws IOException, InterruptedException {
    if (!Files.isExecutable(Path.of("/bin/bash")) || !Files.isExecutable(Path.of("/usr/bin/sha256sum"))) {
      return null;
    }
    Process process =
        new ProcessBuilder(
                "/bin/bash",
                "-c",
                "cd \"$1\" && (find . -type f -not -path './.modelship/*' -printf '%P\\n' | LC_ALL=C sort"
                    + " | xargs -d '\\n' sha256sum) | sha256sum",
                "digest",
                dir.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException("shell digest failed: " + out);
    }
    return out.split("\\s+")[0];
  }

  /** Every regular file below dir with its bytes, '/'-separated relative paths. */
  static Map<String, byte[]> readTree(Path dir) throws IOException {
    Map<String, byte[]> files = new TreeMap<>();
    List<Path> paths = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.filter(Files::isRegularFile).forEach(paths::add);
    }
    for (Path path : paths) {
      files.put(dir.relativize(path).toString().replace('\\', '/'), Files.readAllBytes(path));
    }
    return files;
  }
}
