package io.modelship.server.serve.http;

/**
 * A request the server answers with an error status and a short message for the client. The message must be
 * safe to show: no stack traces, no secrets.
 */
final class ApiError extends RuntimeException {
  private final int status;

  ApiError(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  int status() {
    return status;
  }

  static ApiError badRequest(String message) {
    return new ApiError(400, message);
  }
}
