package io.modelship.server.serve.http;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every open client connection, and two rules about them. A connection must complete a request's head within the
 * idle timeout of opening or of its last answer, or it is closed: that bounds idle keep-alive connections and
 * clients that trickle a partial head alike. And on a drain, every answer closes its connection ("Connection:
 * close") and connections with nothing in progress are closed, so pooled keep-alive clients move to other pods
 * instead of meeting a reset. A connection that has not yet carried a request is left to its request or its
 * timeout: closing it could cut a request that is on its way. State of a connection is touched only on its own
 * event loop.
 */
final class Connections {
  private final Vertx vertx;
  private final long idleMillis;
  private final long maxAgeNanos;
  private final Map<HttpConnection, Tracked> open = new ConcurrentHashMap<>();
  private volatile boolean closing;

  Connections(Vertx vertx, Duration idleTimeout, Duration maxAge) {
    this.vertx = vertx;
    this.idleMillis = idleTimeout.toMillis();
    this.maxAgeNanos = maxAge.toNanos();
  }

  /** A connection was accepted; called on its event loop. */
  void opened(HttpConnection connection) {
    Tracked tracked = new Tracked(connection, Vertx.currentContext());
    open.put(connection, tracked);
    connection.closeHandler(ignored -> {
      open.remove(connection);
      tracked.cancelTimer();
    });
    tracked.awaitRequest();
  }

  /** A request's head has arrived on its connection. */
  void requestStarted(HttpServerRequest request) {
    Tracked tracked = open.get(request.connection());
    if (tracked != null) {
      tracked.active++;
      tracked.cancelTimer();
    }
  }

  /** A request was answered (or its connection is going away). */
  void requestEnded(HttpServerRequest request) {
    Tracked tracked = open.get(request.connection());
    if (tracked == null) {
      return;
    }
    tracked.active = Math.max(0, tracked.active - 1);
    tracked.served++;
    if (tracked.active == 0) {
      tracked.awaitRequest();
    }
  }

  /** Whether the answer to {@code request} should close its connection: a drain, or the connection's age. */
  boolean closeAfter(HttpServerRequest request) {
    if (closing) {
      return true;
    }
    Tracked tracked = open.get(request.connection());
    return tracked != null && maxAgeNanos > 0 && System.nanoTime() - tracked.openedAt > tracked.maxAge;
  }

  /** From now on every answer closes its connection. Safe to call from any thread. */
  void closeAfterEachAnswer() {
    closing = true;
  }

  /**
   * As {@link #closeAfterEachAnswer}, and connections with no request in progress are closed now. Safe to call
   * from any thread.
   */
  void closeIdle() {
    closing = true;
    open.values().forEach(tracked -> tracked.context.runOnContext(ignored -> tracked.closeIfIdle()));
  }

  int count() {
    return open.size();
  }

  private final class Tracked {
    final HttpConnection connection;
    final Context context;
    final long openedAt = System.nanoTime();
    /** The age limit of this connection, spread ±25% so clients of many pods do not reconnect in step. */
    final long maxAge = (long) (maxAgeNanos * (0.75 + 0.5 * java.util.concurrent.ThreadLocalRandom.current().nextDouble()));
    int active;
    int served;
    long timer = -1;

    Tracked(HttpConnection connection, Context context) {
      this.connection = connection;
      this.context = context;
    }

    void awaitRequest() {
      cancelTimer();
      if (idleMillis > 0) {
        timer = vertx.setTimer(idleMillis, ignored -> {
          timer = -1;
          if (active == 0) {
            connection.close();
          }
        });
      }
    }

    void cancelTimer() {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
    }

    void closeIfIdle() {
      if (active == 0 && served > 0) {
        cancelTimer();
        connection.close();
      }
    }
  }
}
