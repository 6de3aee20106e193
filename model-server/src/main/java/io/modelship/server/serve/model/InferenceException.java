package io.modelship.server.serve.model;

/**
 * The model failed to run a request that passed validation. Its message is short and safe to return to a
 * client; the cause, with any engine detail, goes only to the log.
 */
public final class InferenceException extends RuntimeException {
  public InferenceException(String message, Throwable cause) {
    super(message, cause);
  }

  public InferenceException(String message) {
    super(message);
  }
}
