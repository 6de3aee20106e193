package io.modelship.server.fetch;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An artifact behind the tracking server's artifact proxy ({@code mlflow-artifacts:/path}, served by {@code mlflow
 * server --serve-artifacts}): directories are listed level by level with {@code GET
 * /api/2.0/mlflow-artifacts/artifacts?path=}, files read from {@code /api/2.0/mlflow-artifacts/artifacts/<path>}.
 */
final class MlflowArtifactStore implements ArtifactStore {

  private static final String API = "/api/2.0/mlflow-artifacts/artifacts";

  private final String base;
  private final String root;
  private final String artifactUri;
  private final HttpTransport http;
  private final RetryPolicy retry;
  private List<ArtifactFile> files;
  private boolean singleFile;
  private Boolean ranges;

  /**
   * @param trackingUri where the proxy runs unless the artifact URI names a host ({@code
   *     mlflow-artifacts://host:port/path})
   */
  MlflowArtifactStore(String artifactUri, String trackingUri, HttpTransport http, RetryPolicy retry) {
    this.artifactUri = artifactUri;
    this.http = http;
    this.retry = retry;
    String rest = artifactUri.substring("mlflow-artifacts:".length());
    String path;
    if (rest.startsWith("//")) {
      int slash = rest.indexOf('/', 2);
      String authority = slash < 0 ? rest.substring(2) : rest.substring(2, slash);
      path = slash < 0 ? "" : rest.substring(slash);
      String scheme = URI.create(trackingUri).getScheme();
      this.base = (scheme == null ? "http" : scheme) + "://" + authority;
    } else {
      path = rest;
      this.base = stripTrailingSlash(trackingUri);
    }
    this.root = path.replaceAll("^/+", "").replaceAll("/+$", "");
  }

  private static String stripTrailingSlash(String uri) {
    return uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri;
  }

  @Override
  public String displayUri() {
    return Redactor.displayUri(artifactUri);
  }

  @Override
  public boolean isSingleFile() {
    list();
    return singleFile;
  }

  @Override
  public synchronized List<ArtifactFile> list() {
    if (files == null) {
      files = retry.call("list " + displayUri(), this::listOnce);
    }
    return files;
  }

  private List<ArtifactFile> listOnce() {
    List<ArtifactFile> found = new ArrayList<>();
    walk("", found);
    if (!found.isEmpty()) {
      singleFile = false;
      return found;
    }
    // Listing a file's path answers an empty list: ask for the file itself before calling it missing.
    String name = root.substring(root.lastIndexOf('/') + 1);
    try {
      Optional<HttpTransport.Streaming> head = http.send("HEAD", fileUri(root), null, "read " + displayUri());
      if (head.isPresent() && !root.isEmpty()) {
        head.get().body().close();
        singleFile = true;
        return List.of(new ArtifactFile(name, head.get().contentLength(), root));
      }
    } catch (IOException e) {
      throw FetchFailure.retryable("cannot read " + displayUri() + ": " + Unreachable.reason(e));
    }
    throw FetchFailure.permanent(
        "MLflow artifact not found: nothing at " + displayUri() + " on the artifact proxy of " + base);
  }

  private void walk(String relative, List<ArtifactFile> found) {
    String path = relative.isEmpty() ? root : root + "/" + relative;
    URI listing = URI.create(base + API + "?path=" + URLEncoder.encode(path, StandardCharsets.UTF_8));
    JsonNode answer =
        http.getJson(listing, "list " + displayUri())
            .orElseThrow(
                () -> FetchFailure.permanent("MLflow artifact not found: " + displayUri() + " (HTTP 404)"));
    for (JsonNode entry : answer.path("files")) {
      String name = entry.path("path").asText();
      // The proxy answers base names; older servers answered paths relative to the root.
      name = name.substring(name.lastIndexOf('/') + 1);
      String child = relative.isEmpty() ? name : relative + "/" + name;
      if (entry.path("is_dir").asBoolean(false)) {
        walk(child, found);
      } else {
        String location = root.isEmpty() ? child : root + "/" + child;
        // The listing is protobuf JSON, which leaves out a file_size of 0 just as it does an unknown one.
        long size = entry.hasNonNull("file_size") ? entry.path("file_size").asLong() : sizeOf(location);
        found.add(new ArtifactFile(child, size, location));
      }
    }
  }

  private long sizeOf(String location) {
    try {
      Optional<HttpTransport.Streaming> head = http.send("HEAD", fileUri(location), null, "read " + displayUri());
      if (head.isEmpty()) {
        throw FetchFailure.permanent("MLflow artifact not found: " + location + " (listed, but HTTP 404)");
      }
      head.get().body().close();
      return head.get().contentLength();
    } catch (IOException e) {
      throw FetchFailure.retryable("cannot read " + displayUri() + ": " + Unreachable.reason(e));
    }
  }

  private URI fileUri(String location) {
    StringBuilder encoded = new StringBuilder(base).append(API);
    for (String segment : location.split("/")) {
      encoded.append('/').append(URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"));
    }
    return URI.create(encoded.toString());
  }

  @Override
  public synchronized boolean supportsRanges(ArtifactFile file) {
    if (file.size() <= 0) {
      // Nothing to split or resume, and an empty file cannot answer a range probe.
      return false;
    }
    if (ranges == null) {
      ranges = file.sizeKnown() && http.honoursRanges(fileUri(file.location()), "read " + displayUri());
    }
    return ranges;
  }

  @Override
  public InputStream open(ArtifactFile file, long from, long to) throws IOException {
    boolean ranged = from > 0 || to >= 0;
    String range = ranged ? "bytes=" + from + "-" + (to >= 0 ? to : "") : null;
    String what = "download " + displayUri() + " " + file.relativePath();
    Optional<HttpTransport.Streaming> response = http.send("GET", fileUri(file.location()), range, what);
    if (response.isEmpty()) {
      throw FetchFailure.permanent("MLflow artifact not found: " + file.location() + " (HTTP 404)");
    }
    if (ranged && response.get().status() != 206) {
      if (from == 0) {
        // The whole file from the start is what a one-part file needs anyway.
        return response.get().body();
      }
      response.get().body().close();
      throw FetchFailure.retryable(what + ": the artifact proxy ignored a byte range");
    }
    return response.get().body();
  }
}
