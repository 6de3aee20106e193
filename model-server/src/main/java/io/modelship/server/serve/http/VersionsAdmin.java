package io.modelship.server.serve.http;

/**
 * What {@code /admin/versions} does (docs/pod-contract.md): shows the versions the server holds and how it routes
 * between them, and takes the operator's placement. The front end only authenticates and carries bytes.
 */
public interface VersionsAdmin {
  /** The JSON answer of {@code GET /admin/versions}. */
  byte[] describe();

  /**
   * Takes a placement and answers at once, before any load finishes, with what {@link #describe()} shows.
   *
   * @throws IllegalArgumentException with a message for the caller (a 400)
   */
  byte[] apply(byte[] body);
}
