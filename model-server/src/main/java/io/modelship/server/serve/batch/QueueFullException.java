package io.modelship.server.serve.batch;

/**
 * A request was refused because the rows already waiting for its model reached the queue's limit. The client
 * should retry later (the HTTP layer answers 503 with {@code Retry-After}); nothing was run.
 */
public final class QueueFullException extends RuntimeException {
  private final int limit;

  QueueFullException(int limit) {
    super("the queue is full (" + limit + " rows waiting); retry later", null, false, false);
    this.limit = limit;
  }

  public int limit() {
    return limit;
  }
}
