package io.modelship.server.fetch;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import javax.net.ssl.SSLException;

/**
 * A store that could not be reached, said the way a person fixes it: which host and port were tried and what
 * happened there ("cannot connect to minio.storage:9000 (connection refused)"). Built from the exception's type
 * only: a library's own message may quote a URL with credentials in it and is never shown.
 */
final class Unreachable extends IOException {

  Unreachable(String message, Throwable cause) {
    super(message, cause);
  }

  /** Wraps {@code error}, raised while talking to {@code target}, in a message that names host and port. */
  static Unreachable of(Throwable error, URI target) {
    return new Unreachable(describe(error, target), error);
  }

  static String describe(Throwable error, URI target) {
    String where = hostAndPort(target);
    for (Throwable cause = error; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
      if (cause instanceof UnknownHostException) {
        return "cannot resolve host " + host(target) + " (unknown host; check the endpoint or tracking URI)";
      }
      if (cause instanceof NoRouteToHostException) {
        return "cannot connect to " + where + " (no route to host)";
      }
      if (cause instanceof ConnectException) {
        return "cannot connect to " + where + " (connection refused: is the store running and listening there?)";
      }
      if (cause instanceof HttpConnectTimeoutException) {
        return "cannot connect to " + where + " (timed out connecting)";
      }
      if (cause instanceof HttpTimeoutException || cause instanceof SocketTimeoutException) {
        return "no answer from " + where + " (timed out)";
      }
      if (cause instanceof SSLException) {
        return "TLS with " + where + " failed (check the certificate and that the endpoint speaks https)";
      }
      if (cause instanceof SocketException && String.valueOf(cause.getMessage()).contains("reset")) {
        return "the connection to " + where + " was reset";
      }
      // The AWS SDK wraps Apache's HttpHostConnectException, a ConnectException, under its own names.
      String name = cause.getClass().getSimpleName();
      if (name.equals("HttpHostConnectException")) {
        return "cannot connect to " + where + " (connection refused: is the store running and listening there?)";
      }
      if (name.equals("ConnectTimeoutException")) {
        return "cannot connect to " + where + " (timed out connecting)";
      }
    }
    return "the connection to " + where + " failed (" + error.getClass().getSimpleName() + ")";
  }

  /** What the message of an I/O failure may show: ours in full, a foreign one by its type only. */
  static String reason(IOException e) {
    return e instanceof Unreachable ? e.getMessage() : e.getClass().getSimpleName();
  }

  private static String host(URI target) {
    return target == null || target.getHost() == null ? "(unknown)" : target.getHost();
  }

  static String hostAndPort(URI target) {
    if (target == null || target.getHost() == null) {
      return "the store";
    }
    int port = target.getPort();
    if (port < 0) {
      port = "https".equalsIgnoreCase(target.getScheme()) ? 443 : 80;
    }
    String host = target.getHost().contains(":") && !target.getHost().startsWith("[")
        ? "[" + target.getHost() + "]" : target.getHost();
    return host + ":" + port;
  }
}
