package io.modelship.operator.analysis;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One HTTP call with a hard deadline for the whole exchange, body included (the JDK's request timeout stops at
 * the headers), for the gates that call user-configured endpoints. It reports failures as exceptions the gates
 * turn into Inconclusive; it never retries.
 */
final class BoundedHttp {
  private BoundedHttp() {}

  static HttpClient client(Duration connectTimeout) {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(connectTimeout)
        .followRedirects(HttpClient.Redirect.NORMAL)
        .build();
  }

  /**
   * @throws TimeoutException when no full answer came within {@code timeout}
   * @throws IOException when the connection failed (refused, reset, unknown host)
   */
  static <T> HttpResponse<T> send(
      HttpClient http, HttpRequest request, HttpResponse.BodyHandler<T> body, Duration timeout)
      throws TimeoutException, IOException, InterruptedException {
    CompletableFuture<HttpResponse<T>> sent = http.sendAsync(request, body);
    try {
      return sent.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | InterruptedException e) {
      sent.cancel(true);
      throw e;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof HttpTimeoutException) {
        throw new TimeoutException(cause.getMessage());
      }
      if (cause instanceof IOException io) {
        throw io;
      }
      throw new IOException(cause == null ? e.toString() : cause.toString(), cause);
    }
  }

  /**
   * How a message names an endpoint: scheme, host and port only. User info, path and query can carry tokens,
   * and status is readable by anyone who can read the ModelDeployment.
   */
  static String describe(URI uri) {
    String port = uri.getPort() < 0 ? "" : ":" + uri.getPort();
    return uri.getScheme() + "://" + uri.getHost() + port;
  }

  /** A short, single-line description of why a call failed, without the exception's stack. */
  static String reason(Throwable error) {
    if (error instanceof TimeoutException) {
      return "no answer in time";
    }
    String message = error.getMessage();
    String kind = error.getClass().getSimpleName();
    return message == null || message.isBlank() ? kind : kind + ": " + message;
  }
}
