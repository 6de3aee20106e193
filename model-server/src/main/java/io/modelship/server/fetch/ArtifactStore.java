package io.modelship.server.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * Where the bytes of a resolved artifact live (an S3 bucket, the MLflow artifact proxy, a web server, a local
 * path). It lists the artifact's files and reads byte ranges of them; parallelism, retries, progress and
 * digests are {@link ArtifactDownloader}'s job, so every store gets them the same way.
 *
 * <p>Implementations turn their own errors into {@link FetchFailure}s: permanent for not found or access denied,
 * retryable for what a later attempt may fix (5xx, throttling, a dropped connection). A plain {@link
 * IOException} from {@link #open} is treated as retryable.
 */
interface ArtifactStore extends AutoCloseable {

  /** The resolved location, without credentials or query strings, for logs and the result. */
  String displayUri();

  /** Whether the artifact is one file (digest of its bytes) rather than a directory (digest of its manifest). */
  boolean isSingleFile();

  /** Every file of the artifact; an empty artifact is a not-found failure, never an empty list. */
  List<ArtifactFile> list();

  /** Whether {@link #open} honours a range that does not start at 0 for this file. */
  boolean supportsRanges(ArtifactFile file);

  /**
   * Reads bytes {@code [from, to]} of the file, or the whole file from {@code from} when {@code to} is -1.
   */
  InputStream open(ArtifactFile file, long from, long to) throws IOException;

  @Override
  default void close() {}
}
