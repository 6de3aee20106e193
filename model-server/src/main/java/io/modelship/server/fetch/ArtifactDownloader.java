package io.modelship.server.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Downloads every file of an artifact into a staging directory: large files in parallel byte ranges, small files
 * side by side, each part retried on its own and resumed where it stopped when the store honours ranges.
 * The first permanent failure (or retryable one whose retries ran out) cancels everything else.
 */
final class ArtifactDownloader {

  private static final Logger log = LoggerFactory.getLogger(ArtifactDownloader.class);
  private static final int BUFFER_BYTES = 256 * 1024;

  private final int parallelism;
  private final long partSize;
  private final RetryPolicy retry;

  ArtifactDownloader(int parallelism, long partSize, RetryPolicy retry) {
    this.parallelism = parallelism;
    this.partSize = partSize;
    this.retry = retry;
  }

  /** A byte range of one file; {@code to} is inclusive, -1 when the part runs to the end of a file of unknown size. */
  private record Part(ArtifactFile file, Path target, long from, long to, int index, int count) {

    String describe(ArtifactStore store) {
      String where = store.isSingleFile() ? store.displayUri() : store.displayUri() + " " + file.relativePath();
      return count == 1 ? "GET " + where : "GET " + where + " part " + (index + 1) + "/" + count;
    }
  }

  void download(ArtifactStore store, List<ArtifactFile> files, Path stagingRoot, Progress progress) {
    List<Part> parts = plan(store, files, stagingRoot);
    if (parts.isEmpty()) {
      return;
    }
    int workers = Math.min(parallelism, parts.size());
    log.info("downloading {} file(s) in {} part(s), {} at a time", files.size(), parts.size(), workers);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            workers,
            new java.util.concurrent.ThreadFactory() {
              private final AtomicInteger next = new AtomicInteger();

              @Override
              public Thread newThread(Runnable runnable) {
                Thread thread = new Thread(runnable, "fetch-part-" + next.incrementAndGet());
                thread.setDaemon(true);
                return thread;
              }
            });
    ExecutorCompletionService<Void> completion = new ExecutorCompletionService<>(pool);
    List<Future<Void>> futures = new ArrayList<>();
    try {
      for (Part part : parts) {
        futures.add(
            completion.submit(
                () -> {
                  peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                  try {
                    retry.call(part.describe(store), new PartDownload(store, part, progress)::attempt);
                    log.debug("{} done (bytes {}-{})", part.describe(store), part.from(), part.to());
                  } finally {
                    inFlight.decrementAndGet();
                  }
                  return null;
                }));
      }
      for (int done = 0; done < parts.size(); done++) {
        try {
          completion.take().get();
        } catch (ExecutionException e) {
          throw asFailure(e.getCause());
        }
      }
      log.debug("at most {} part(s) were in flight at once", peak.get());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FetchFailure.retryable("interrupted while downloading " + store.displayUri());
    } finally {
      futures.forEach(future -> future.cancel(true));
      pool.shutdownNow();
    }
  }

  private List<Part> plan(ArtifactStore store, List<ArtifactFile> files, Path stagingRoot) {
    List<Part> parts = new ArrayList<>();
    for (ArtifactFile file : files) {
      Path target = stagingRoot.resolve(file.relativePath());
      try {
        Files.createDirectories(target.getParent());
        // Created up front so parts can write at their offsets in any order.
        Files.deleteIfExists(target);
        Files.createFile(target);
      } catch (IOException e) {
        throw localFailure("cannot create " + target, e);
      }
      if (file.sizeKnown() && file.size() == 0) {
        continue;
      }
      if (file.sizeKnown() && file.size() > partSize && store.supportsRanges(file)) {
        int count = (int) ((file.size() + partSize - 1) / partSize);
        for (int i = 0; i < count; i++) {
          long from = i * partSize;
          long to = Math.min(file.size(), from + partSize) - 1;
          parts.add(new Part(file, target, from, to, i, count));
        }
      } else {
        parts.add(new Part(file, target, 0, file.sizeKnown() ? file.size() - 1 : -1, 0, 1));
      }
    }
    return parts;
  }

  /** One part across attempts: remembers how far it got, so a retry asks only for the rest when it can. */
  private static final class PartDownload {
    private final ArtifactStore store;
    private final Part part;
    private final Progress progress;
    private final boolean resumable;
    private long written;

    PartDownload(ArtifactStore store, Part part, Progress progress) {
      this.store = store;
      this.part = part;
      this.progress = progress;
      this.resumable = store.supportsRanges(part.file());
    }

    Void attempt() {
      if (!resumable && written > 0) {
        // The store cannot start mid-file: throw away what the failed attempt wrote and start over.
        progress.add(-written);
        written = 0;
      }
      long from = part.from() + written;
      long expected = part.to() < 0 ? -1 : part.to() - part.from() + 1;
      if (expected == 0 || (expected > 0 && written == expected)) {
        return null;
      }
      try (FileChannel channel = FileChannel.open(part.target(), StandardOpenOption.WRITE);
          InputStream in = store.open(part.file(), from, part.to())) {
        if (!resumable && part.to() < 0) {
          channel.truncate(0);
        }
        byte[] buffer = new byte[BUFFER_BYTES];
        int n;
        while ((n = in.read(buffer)) > 0) {
          if (expected > 0 && written + n > expected) {
            throw FetchFailure.permanent(
                part.describe(store) + " returned more bytes than the " + expected + " expected");
          }
          ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, n);
          long position = part.from() + written;
          while (chunk.hasRemaining()) {
            position += channel.write(chunk, position);
          }
          written += n;
          progress.add(n);
          if (Thread.currentThread().isInterrupted()) {
            throw new CancellationException();
          }
        }
      } catch (FetchFailure | CancellationException e) {
        throw e;
      } catch (IOException e) {
        if (Thread.currentThread().isInterrupted()) {
          throw new CancellationException();
        }
        String reason = e instanceof StalledException ? e.getMessage() : Unreachable.reason(e);
        throw FetchFailure.retryable(part.describe(store) + " broke off after " + written + " bytes: " + reason);
      }
      if (expected > 0 && written < expected) {
        throw FetchFailure.retryable(
            part.describe(store) + " ended after " + written + " of " + expected + " bytes");
      }
      return null;
    }
  }

  private static FetchFailure asFailure(Throwable cause) {
    if (cause instanceof FetchFailure failure) {
      return failure;
    }
    // Only the class: the message of a foreign exception may quote a URL or header we cannot vouch for.
    return FetchFailure.permanent("download failed unexpectedly: " + cause.getClass().getName());
  }

  static FetchFailure localFailure(String what, IOException e) {
    String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return FetchFailure.permanent(what + ": " + reason + " (check the model directory's volume: space, permissions)");
  }
}
