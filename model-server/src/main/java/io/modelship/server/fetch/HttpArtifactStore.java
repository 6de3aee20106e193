package io.modelship.server.fetch;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * One file behind a plain {@code http(s)://} URL, possibly presigned. The URL's query string is a credential for
 * presigned URLs, so only {@link #displayUri} (without it) is ever shown.
 */
final class HttpArtifactStore implements ArtifactStore {

  private final URI uri;
  private final HttpTransport http;
  private final RetryPolicy retry;
  private List<ArtifactFile> files;
  private boolean ranges;

  HttpArtifactStore(URI uri, HttpTransport http, RetryPolicy retry) {
    this.uri = uri;
    this.http = http;
    this.retry = retry;
  }

  @Override
  public String displayUri() {
    return Redactor.displayUri(uri.toString());
  }

  @Override
  public boolean isSingleFile() {
    return true;
  }

  @Override
  public synchronized List<ArtifactFile> list() {
    if (files == null) {
      files = retry.call("probe " + displayUri(), this::probe);
    }
    return files;
  }

  private List<ArtifactFile> probe() {
    String what = "download " + displayUri();
    // A one-byte range GET, not HEAD: presigned URLs are signed for GET only, and the 206 answer tells both the
    // size (Content-Range) and that ranges work.
    try {
      Optional<HttpTransport.Streaming> response = http.send("GET", uri, "bytes=0-0", what, 404, 416);
      if (response.isEmpty()) {
        return List.of(emptyOrMissing());
      }
      HttpTransport.Streaming answer = response.get();
      long size;
      try (InputStream body = answer.body()) {
        if (answer.status() == 206) {
          size = answer.header("Content-Range").map(HttpArtifactStore::totalOf).orElse(-1L);
          ranges = size >= 0;
        } else {
          // The server ignored the range and is sending the whole file: take its length and hang up.
          size = answer.contentLength();
          ranges = false;
        }
      }
      return List.of(new ArtifactFile(fileName(), size, uri.toString()));
    } catch (IOException e) {
      throw FetchFailure.retryable("cannot " + what + ": " + Unreachable.reason(e));
    }
  }

  /** A 416 for the first byte means an empty file; a 404 means there is none. */
  private ArtifactFile emptyOrMissing() throws IOException {
    Optional<HttpTransport.Streaming> whole = http.send("GET", uri, null, "download " + displayUri());
    if (whole.isEmpty()) {
      throw FetchFailure.permanent("not found (HTTP 404): " + displayUri());
    }
    whole.get().body().close();
    ranges = false;
    return new ArtifactFile(fileName(), whole.get().contentLength(), uri.toString());
  }

  private static long totalOf(String contentRange) {
    int slash = contentRange.lastIndexOf('/');
    try {
      return slash < 0 ? -1 : Long.parseLong(contentRange.substring(slash + 1).trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private String fileName() {
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    String last = URLDecoder.decode(path.substring(path.lastIndexOf('/') + 1), StandardCharsets.UTF_8);
    if (last.isEmpty()) {
      throw FetchFailure.usage(
          "an http(s) source must name a file (its last path segment names the file in the model directory): "
              + displayUri());
    }
    return last;
  }

  @Override
  public boolean supportsRanges(ArtifactFile file) {
    list();
    return ranges;
  }

  @Override
  public InputStream open(ArtifactFile file, long from, long to) throws IOException {
    String range = ranges && (from > 0 || to >= 0) ? "bytes=" + from + "-" + (to >= 0 ? to : "") : null;
    Optional<HttpTransport.Streaming> response = http.send("GET", uri, range, "download " + displayUri());
    if (response.isEmpty()) {
      throw FetchFailure.permanent("not found (HTTP 404): " + displayUri());
    }
    if (range != null && response.get().status() != 206) {
      response.get().body().close();
      throw FetchFailure.retryable(displayUri() + " ignored a byte range it honoured before");
    }
    return response.get().body();
  }
}
