package io.modelship.server.fetch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpHeaders;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * HTTP for the MLflow REST API, its artifact proxy and plain web sources, on the JDK client. Maps status codes to
 * the contract's failure kinds once: 401/403 access denied, 404 not found, 408/429/5xx and connection errors
 * retryable. The Authorization header it adds is never echoed anywhere.
 */
final class HttpTransport {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient client;
  private final Duration stallTimeout;
  private final Optional<String> authorization;
  /** Names the credentials to check in an access-denied message. */
  private final String credentialsHint;

  HttpTransport(Optional<String> authorization, String credentialsHint, Duration stallTimeout) {
    this.stallTimeout = stallTimeout;
    this.client =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .followRedirects(HttpClient.Redirect.NORMAL)
            .version(HttpClient.Version.HTTP_1_1)
            .build();
    this.authorization = authorization;
    this.credentialsHint = credentialsHint;
  }

  /** A response that is still streaming; the caller closes the body. */
  record Streaming(int status, HttpHeaders headers, InputStream body) {
    Optional<String> header(String name) {
      return headers.firstValue(name);
    }

    long contentLength() {
      return headers.firstValueAsLong("Content-Length").orElse(-1);
    }
  }

  /** GET (or HEAD) returning the body as a stream on 2xx; 404 yields empty, other errors throw. */
  Optional<Streaming> send(String method, URI uri, String range, String what) throws IOException {
    return send(method, uri, range, what, 404, 404);
  }

  /** As {@link #send(String, URI, String, String)}, with two statuses that mean "absent". */
  Optional<Streaming> send(String method, URI uri, String range, String what, int absent, int alsoAbsent)
      throws IOException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(2)).method(method, HttpRequest.BodyPublishers.noBody());
    authorization.ifPresent(value -> request.header("Authorization", value));
    if (range != null) {
      request.header("Range", range);
    }
    HttpResponse<Flow.Publisher<List<ByteBuffer>>> response;
    try {
      response = client.send(request.build(), HttpResponse.BodyHandlers.ofPublisher());
    } catch (IOException e) {
      throw Unreachable.of(e, uri);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FetchFailure.retryable("interrupted while trying to " + what);
    }
    BodyStream body = new BodyStream(stallTimeout);
    response.body().subscribe(body);
    int status = response.statusCode();
    if (status >= 200 && status < 300) {
      return Optional.of(new Streaming(status, response.headers(), body));
    }
    String detail = errorDetail(body);
    if (status == absent || status == alsoAbsent) {
      return Optional.empty();
    }
    throw statusFailure(status, what, detail);
  }

  /** GET of a JSON document; 404 yields empty. Connection errors are retryable failures. */
  Optional<JsonNode> getJson(URI uri, String what) {
    return getJson(uri, what, 404);
  }

  /**
   * GET of a JSON document; 404 and {@code absent} yield empty (MLflow answers a missing alias with 400
   * INVALID_PARAMETER_VALUE, not 404).
   */
  Optional<JsonNode> getJson(URI uri, String what, int absent) {
    try {
      Optional<Streaming> response = send("GET", uri, null, what, 404, absent);
      if (response.isEmpty()) {
        return Optional.empty();
      }
      try (InputStream body = response.get().body()) {
        return Optional.of(JSON.readTree(body));
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw FetchFailure.permanent("cannot " + what + ": the server did not answer JSON");
    } catch (IOException e) {
      throw FetchFailure.retryable("cannot " + what + ": " + Unreachable.reason(e));
    }
  }

  /**
   * The MLflow error code and message of a 4xx answer, for not-found messages that name the model. MLflow's
   * messages quote request parameters (model names, versions), never credentials.
   */
  private static String errorDetail(InputStream response) {
    try (InputStream body = response) {
      byte[] bytes = body.readNBytes(8192);
      JsonNode json = JSON.readTree(bytes);
      if (json != null && json.hasNonNull("error_code")) {
        return json.path("error_code").asText() + ": " + json.path("message").asText();
      }
    } catch (IOException | RuntimeException e) {
      // Not JSON (a proxy's HTML page): the status code says enough.
    }
    return null;
  }

  private FetchFailure statusFailure(int status, String what, String detail) {
    String suffix = detail == null ? "" : " (" + detail + ")";
    if (status == 401 || status == 403) {
      return FetchFailure.permanent(
          "access denied (HTTP " + status + ") trying to " + what + ": check " + credentialsHint);
    }
    if (status == 408 || status == 429 || status >= 500) {
      return FetchFailure.retryable("cannot " + what + ": HTTP " + status + suffix);
    }
    return FetchFailure.permanent("cannot " + what + ": HTTP " + status + suffix);
  }

  /** Whether a server honours byte ranges for this URI, asked with a one-byte range. */
  boolean honoursRanges(URI uri, String what) {
    try {
      // 416: the file is empty, so no range of it exists; that says nothing about the server.
      Optional<Streaming> response = send("GET", uri, "bytes=0-0", what, 404, 416);
      if (response.isEmpty()) {
        return false;
      }
      try (InputStream body = response.get().body()) {
        body.readNBytes(2);
      }
      return response.get().status() == 206;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * A response body as an InputStream whose reads give up after the stall timeout. The JDK client has no read
   * timeout, and its own ofInputStream() ignores interrupts (JDK 17), so a half-open connection would otherwise
   * block an init container forever.
   */
  static final class BodyStream extends InputStream implements Flow.Subscriber<List<ByteBuffer>> {
    private static final Object END = new Object();

    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final Duration stallTimeout;
    private volatile Flow.Subscription subscription;
    private Iterator<ByteBuffer> buffers;
    private ByteBuffer current;
    private boolean done;

    BodyStream(Duration stallTimeout) {
      this.stallTimeout = stallTimeout;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      this.subscription = subscription;
      subscription.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
      queue.add(item);
    }

    @Override
    public void onError(Throwable throwable) {
      queue.add(throwable);
    }

    @Override
    public void onComplete() {
      queue.add(END);
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    @SuppressWarnings("unchecked")
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      while (current == null || !current.hasRemaining()) {
        if (buffers != null && buffers.hasNext()) {
          current = buffers.next();
          continue;
        }
        if (done) {
          return -1;
        }
        Object item;
        try {
          item = queue.poll(stallTimeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          close();
          throw new java.io.InterruptedIOException("interrupted while reading");
        }
        if (item == null) {
          close();
          throw new StalledException(stallTimeout);
        }
        if (item == END) {
          done = true;
          return -1;
        }
        if (item instanceof Throwable failure) {
          done = true;
          // The class says what happened (reset, EOF); a foreign message might quote a URL.
          throw new IOException("connection failed: " + failure.getClass().getSimpleName());
        }
        buffers = ((List<ByteBuffer>) item).iterator();
        subscription.request(1);
      }
      int n = Math.min(len, current.remaining());
      current.get(b, off, n);
      return n;
    }

    @Override
    public void close() {
      done = true;
      Flow.Subscription s = subscription;
      if (s != null) {
        s.cancel();
      }
    }
  }
}
