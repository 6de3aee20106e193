package io.modelship.server.serve.batch;

/**
 * Sees every batch just before it runs. Production passes {@link #NONE}; tests use it to hold a batch in flight
 * while they watch what the rest of the server does.
 */
@FunctionalInterface
public interface BatchObserver {
  BatchObserver NONE = (requests, rows) -> {};

  void beforeRun(int requests, int rows);
}
