package io.modelship.server.fetch;

import java.util.List;
import java.util.Map;

/**
 * The {@code fetch} role's download, for a server that loads a further version beside the one it serves
 * (docs/pod-contract.md, in-place rollouts): the same stores, retries, digest rules and credentials directory as
 * the init container, and the same redaction of every message. It writes into the directory it is given.
 */
public final class Fetcher {
  private Fetcher() {}

  /**
   * Fetches with the {@code fetch} role's flags (no environment is read).
   *
   * @throws FetchFailure with a message safe to show: no secret, token or presigned query string
   */
  public static FetchResult fetch(List<String> args) {
    Redactor redactor = new Redactor();
    try {
      FetchOptions options = FetchOptions.parse(args.toArray(String[]::new), Map.of());
      return FetchCommand.fetch(options, redactor);
    } catch (FetchFailure failure) {
      String shown = redactor.redact(failure.getMessage());
      throw switch (failure.kind()) {
        case USAGE -> FetchFailure.usage(shown);
        case RETRYABLE -> FetchFailure.retryable(shown);
        case PERMANENT -> FetchFailure.permanent(shown);
      };
    } catch (RuntimeException e) {
      throw FetchFailure.permanent("unexpected error " + e.getClass().getName() + " (a bug in model-server fetch)");
    }
  }
}
