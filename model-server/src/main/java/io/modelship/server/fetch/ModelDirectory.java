package io.modelship.server.fetch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model directory {@code serve} loads from. Owns the one rule that matters: nothing that looks complete is
 * ever there before every byte is down and the digest checked, and a failed fetch leaves the previous content as
 * it was.
 *
 * <p>Where the directory can be renamed (its parent is writable and on the same filesystem) the artifact is
 * staged in a hidden sibling directory and swapped in by renames. In the pod {@code /models} is an emptyDir mount
 * point, which cannot be renamed and whose parent is the read-only root filesystem; there staging happens in
 * {@code .modelship/} inside it, and {@code .modelship/artifact.json}, written last by an atomic rename and
 * removed first, is the mark of a complete artifact.
 */
final class ModelDirectory {

  private static final Logger log = LoggerFactory.getLogger(ModelDirectory.class);

  static final String METADATA_DIR = ".modelship";
  static final String RESULT_FILE = "artifact.json";
  private static final String STAGING_PREFIX = "staging-";

  private final Path dir;
  private final boolean renameable;

  ModelDirectory(Path dir, boolean renameable) {
    this.dir = dir.toAbsolutePath().normalize();
    this.renameable = renameable;
  }

  static ModelDirectory at(Path dir) {
    Path absolute = dir.toAbsolutePath().normalize();
    return new ModelDirectory(absolute, canRename(absolute));
  }

  Path path() {
    return dir;
  }

  Path resultFile() {
    return dir.resolve(METADATA_DIR).resolve(RESULT_FILE);
  }

  private static boolean canRename(Path dir) {
    Path parent = dir.getParent();
    if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
      return false;
    }
    if (!Files.exists(dir)) {
      return true;
    }
    try {
      // A mount point (the pod's emptyDir) sits on another filesystem than its parent and cannot be renamed.
      return Objects.equals(
          Files.getAttribute(dir, "unix:dev"), Files.getAttribute(parent, "unix:dev"));
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      try {
        return Files.getFileStore(dir).equals(Files.getFileStore(parent));
      } catch (IOException ignored) {
        return false;
      }
    }
  }

  /** A fresh, empty staging directory; leftovers of a fetch that crashed earlier are removed first. */
  Path stage() {
    try {
      removeLeftovers();
      Path staging;
      if (renameable) {
        Files.createDirectories(dir.getParent());
        staging = dir.resolveSibling("." + dir.getFileName() + ".fetch-" + UUID.randomUUID());
      } else {
        Files.createDirectories(dir.resolve(METADATA_DIR));
        staging = dir.resolve(METADATA_DIR).resolve(STAGING_PREFIX + UUID.randomUUID());
      }
      Files.createDirectory(staging);
      return staging;
    } catch (IOException e) {
      throw ArtifactDownloader.localFailure("cannot prepare a staging directory for " + dir, e);
    }
  }

  /**
   * Moves a verified artifact into place, with its result record. The staging directory is gone afterwards.
   */
  void commit(Path staging, String resultJson) {
    try {
      if (renameable) {
        commitByRename(staging, resultJson);
      } else {
        commitInPlace(staging, resultJson);
      }
    } catch (IOException e) {
      throw ArtifactDownloader.localFailure("cannot move the artifact into " + dir, e);
    }
  }

  /** Throws a staging directory away; the model directory is not touched. */
  void discard(Path staging) {
    try {
      deleteRecursively(staging);
    } catch (IOException e) {
      log.warn("could not remove the staging directory {}: {}", staging, e.getClass().getSimpleName());
    }
  }

  private void commitByRename(Path staging, String resultJson) throws IOException {
    Path metadata = Files.createDirectories(staging.resolve(METADATA_DIR));
    Files.writeString(metadata.resolve(RESULT_FILE), resultJson, StandardCharsets.UTF_8);
    Path previous = null;
    if (Files.exists(dir)) {
      previous = dir.resolveSibling("." + dir.getFileName() + ".old-" + UUID.randomUUID());
      Files.move(dir, previous, StandardCopyOption.ATOMIC_MOVE);
    }
    try {
      Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      if (previous != null) {
        Files.move(previous, dir, StandardCopyOption.ATOMIC_MOVE);
      }
      throw e;
    }
    if (previous != null) {
      deleteRecursively(previous);
    }
  }

  private void commitInPlace(Path staging, String resultJson) throws IOException {
    Path metadata = dir.resolve(METADATA_DIR);
    // The completeness mark goes first, so a crash below leaves a directory that does not claim to be complete.
    Files.deleteIfExists(metadata.resolve(RESULT_FILE));
    for (Path entry : entries(dir)) {
      if (!entry.getFileName().toString().equals(METADATA_DIR)) {
        deleteRecursively(entry);
      }
    }
    for (Path entry : entries(staging)) {
      Files.move(entry, dir.resolve(entry.getFileName().toString()), StandardCopyOption.ATOMIC_MOVE);
    }
    Path pending = metadata.resolve(RESULT_FILE + ".pending");
    Files.writeString(pending, resultJson, StandardCharsets.UTF_8);
    Files.move(pending, metadata.resolve(RESULT_FILE), StandardCopyOption.ATOMIC_MOVE);
    deleteRecursively(staging);
  }

  private void removeLeftovers() throws IOException {
    Path parent = dir.getParent();
    if (renameable && parent != null && Files.isDirectory(parent)) {
      String mine = "." + dir.getFileName() + ".";
      for (Path entry : entries(parent)) {
        String name = entry.getFileName().toString();
        if (name.startsWith(mine + "fetch-") || name.startsWith(mine + "old-")) {
          log.info("removing {} left by an earlier fetch that did not finish", entry);
          deleteRecursively(entry);
        }
      }
    }
    Path metadata = dir.resolve(METADATA_DIR);
    if (Files.isDirectory(metadata)) {
      for (Path entry : entries(metadata)) {
        if (entry.getFileName().toString().startsWith(STAGING_PREFIX)) {
          log.info("removing {} left by an earlier fetch that did not finish", entry);
          deleteRecursively(entry);
        }
      }
    }
  }

  private static List<Path> entries(Path dir) throws IOException {
    List<Path> entries = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
      stream.forEach(entries::add);
    }
    return entries;
  }

  static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
            Files.deleteIfExists(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
            if (exc instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE;
            }
            throw exc;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path directory, IOException exc) throws IOException {
            if (exc != null && !(exc instanceof NoSuchFileException)) {
              throw exc;
            }
            Files.deleteIfExists(directory);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}
