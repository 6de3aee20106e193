package io.modelship.server.serve.metrics;

/** How an inference request ended, as the request counter labels it. */
public enum Outcome {
  SUCCESS("success"),
  CLIENT_ERROR("client_error"),
  SERVER_ERROR("server_error"),
  /** Refused with 503 because the model's queue was full: overload, not a fault; the client should retry. */
  REJECTED("rejected");

  private final String label;

  Outcome(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  public static Outcome ofStatus(int status) {
    if (status >= 500) {
      return SERVER_ERROR;
    }
    return status >= 400 ? CLIENT_ERROR : SUCCESS;
  }
}
