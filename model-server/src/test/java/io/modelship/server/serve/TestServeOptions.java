package io.modelship.server.serve;

import java.nio.file.Path;

/**
 * The server's defaults for tests, but for one: 20 HTTP warm-up requests instead of 5,000. The production default
 * buys a JIT-compiled request path at about 3.5 s per start, which tests that start a server per class do not
 * need; the tests about warm-up set their own count.
 */
final class TestServeOptions {
  private TestServeOptions() {}

  static ServeOptions defaults(Path modelDir, int port) {
    return ServeOptions.defaults(modelDir, port).withWarmupHttpRequests(20);
  }
}
