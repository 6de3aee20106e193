package io.modelship.server.fetch;

/**
 * Why a fetch stopped, as the pod contract's exit codes see it.
 *
 * <p>The message is shown to people as it is (log line and termination message), so it is always built by us and
 * never carries a cause: exception messages from HTTP stacks can quote URLs with presigned query strings or
 * headers, and a fetch failure must never leak a secret.
 */
public final class FetchFailure extends RuntimeException {

  /** The contract's exit codes; retrying is only worth it for {@link #RETRYABLE}. */
  public enum Kind {
    USAGE(2),
    PERMANENT(3),
    RETRYABLE(4);

    private final int exitCode;

    Kind(int exitCode) {
      this.exitCode = exitCode;
    }

    public int exitCode() {
      return exitCode;
    }
  }

  private final Kind kind;

  private FetchFailure(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public static FetchFailure usage(String message) {
    return new FetchFailure(Kind.USAGE, message);
  }

  public static FetchFailure permanent(String message) {
    return new FetchFailure(Kind.PERMANENT, message);
  }

  public static FetchFailure retryable(String message) {
    return new FetchFailure(Kind.RETRYABLE, message);
  }

  public Kind kind() {
    return kind;
  }

  public boolean isRetryable() {
    return kind == Kind.RETRYABLE;
  }
}
