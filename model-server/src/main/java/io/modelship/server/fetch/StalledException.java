package io.modelship.server.fetch;

import java.io.IOException;
import java.time.Duration;

/** No byte arrived within the stall timeout: the connection is given up and the read retried. */
final class StalledException extends IOException {
  StalledException(Duration timeout) {
    super("stalled, no data for " + timeout.toSeconds() + " s");
  }
}
