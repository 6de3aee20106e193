package io.modelship.server.fetch;

/**
 * One file of an artifact as its store lists it.
 *
 * @param relativePath where the file lands below the model directory, '/'-separated, already checked to stay
 *     inside it
 * @param size bytes, or -1 when the store cannot tell before downloading (a plain HTTP server without
 *     Content-Length)
 * @param location the store's own address of the file (S3 key, artifact-proxy path, local path, URL)
 */
record ArtifactFile(String relativePath, long size, String location) {

  ArtifactFile {
    relativePath = checkRelativePath(relativePath);
  }

  boolean sizeKnown() {
    return size >= 0;
  }

  /**
   * Store listings come from outside (S3 keys, MLflow paths); a key such as {@code a/../../etc/passwd} must not
   * write outside the model directory.
   */
  static String checkRelativePath(String path) {
    if (path == null || path.isEmpty() || path.startsWith("/") || path.contains("\\") || path.contains("\0")) {
      throw FetchFailure.permanent("the artifact holds a file with an unusable path: '" + path + "'");
    }
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw FetchFailure.permanent("the artifact holds a file with an unusable path: '" + path + "'");
      }
    }
    if (path.equals(ModelDirectory.METADATA_DIR) || path.startsWith(ModelDirectory.METADATA_DIR + "/")) {
      throw FetchFailure.permanent(
          "the artifact holds '" + path + "', which collides with the fetch metadata directory "
              + ModelDirectory.METADATA_DIR + "/");
    }
    return path;
  }
}
