package io.modelship.server.serve.http;

import io.modelship.server.serve.batch.BatchQueue;
import io.modelship.server.serve.batch.QueueFullException;
import io.modelship.server.serve.metrics.ModelMetrics;
import io.modelship.server.serve.metrics.Outcome;
import io.modelship.server.serve.metrics.ServerMetrics;
import io.modelship.server.serve.model.InferenceException;
import io.modelship.server.serve.model.InferenceRequest;
import io.modelship.server.serve.model.InferenceResult;
import io.modelship.server.serve.model.Signature;
import io.modelship.server.serve.registry.ModelRegistry;
import io.modelship.server.serve.registry.ModelState;
import io.modelship.server.serve.registry.ModelVersion;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.net.SocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one HTTP port: Open Inference Protocol (v2) REST, DJL Serving's {@code /ping} and {@code /predictions},
 * health and {@code /metrics}. It owns routing, the body limit, the API key check, turning failures into
 * statuses, the request meters, and the count of inference requests in flight that a drain waits for. It never
 * runs a model itself: requests go to their model version's batch queue and answers come back on the event loop.
 */
public final class HttpFrontEnd {
  private static final Logger LOG = LoggerFactory.getLogger(HttpFrontEnd.class);
  private static final String JSON = "application/json";
  /**
   * The header the server's own warm-up requests carry, with a random token that never leaves the process.
   * Only such a request from this host, to a model version still warming up, gets past readiness (and the API
   * key, which the server cannot present: it keeps only the key's digest). It is never counted in metrics.
   */
  public static final String WARM_UP_HEADER = "X-Modelship-Warm-Up";
  /** Seconds a client is told to wait after a 503 for a full queue. */
  private static final String RETRY_AFTER_SECONDS = "1";

  private final Vertx vertx;
  private final ModelRegistry registry;
  private final ServerMetrics metrics;
  private final long maxBodyBytes;
  private final Optional<ApiKey> apiKey;
  private final String serverVersion;
  private final byte[] warmUpToken;
  private final InFlight inFlight = new InFlight();
  /** Readiness is false (the pre-drain delay and the drain). */
  private volatile boolean draining;
  /** New inference requests are refused (the drain, after the delay). */
  private volatile boolean refusing;
  private HttpServer server;

  public HttpFrontEnd(
      Vertx vertx,
      ModelRegistry registry,
      ServerMetrics metrics,
      long maxBodyBytes,
      Optional<ApiKey> apiKey,
      String serverVersion,
      String warmUpToken) {
    this.vertx = vertx;
    this.registry = registry;
    this.metrics = metrics;
    this.maxBodyBytes = maxBodyBytes;
    this.apiKey = apiKey;
    this.serverVersion = serverVersion;
    this.warmUpToken = warmUpToken.getBytes(StandardCharsets.UTF_8);
  }

  public Future<HttpServer> listen(String host, int port) {
    HttpServerOptions options =
        new HttpServerOptions().setHost(host).setPort(port).setTcpNoDelay(true).setReuseAddress(true);
    return vertx
        .createHttpServer(options)
        .requestHandler(this::handle)
        .listen()
        .onSuccess(listening -> server = listening);
  }

  public int port() {
    return server.actualPort();
  }

  /** True once every model version is ready, until a drain starts. */
  public boolean ready() {
    return !draining && registry.allReady();
  }

  /**
   * Readiness turns false, but inference requests are still served: Kubernetes takes the pod out of its
   * Services' endpoints only after it sees the pod terminating, and clients may still arrive meanwhile.
   */
  public void stopReporting() {
    draining = true;
  }

  /** Readiness false (if it was not yet) and new inference requests are refused; those in flight go on. */
  public void startDraining() {
    draining = true;
    refusing = true;
  }

  /** Waits until no inference request is in flight; false when {@code timeout} passed first. */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    return inFlight.awaitZero(timeout);
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void handle(HttpServerRequest request) {
    try {
      route(request);
    } catch (RuntimeException e) {
      LOG.error("{} {} failed", request.method(), request.path(), e);
      if (!request.response().ended() && !request.response().closed()) {
        request.response().setStatusCode(500).end(Buffer.buffer(V2Codec.encodeError("internal error")));
      }
    }
  }

  private void route(HttpServerRequest request) {
    List<String> path = segments(request.path());
    HttpMethod method = request.method();
    if (path.isEmpty()) {
      replyAfterBody(request, 404, V2Codec.encodeError("no such path: /"));
      return;
    }
    switch (path.get(0)) {
      case "metrics" -> {
        if (expect(request, method, HttpMethod.GET, path.size() == 1)) {
          replyAfterBody(request, 200, metrics.scrape().getBytes(StandardCharsets.UTF_8), metrics.contentType());
        }
      }
      case "ping" -> {
        if (expect(request, method, HttpMethod.GET, path.size() == 1)) {
          boolean ready = ready();
          replyAfterBody(request, ready ? 200 : 503, V2Codec.encodeStatus(ready ? "Healthy" : "Unhealthy"));
        }
      }
      case "predictions" -> {
        if (expect(request, method, HttpMethod.POST, path.size() == 2 || path.size() == 3)) {
          infer(request, path.get(1), path.size() == 3 ? path.get(2) : null, Protocol.PREDICTIONS);
        }
      }
      case "v2" -> v2(request, method, path);
      default -> replyAfterBody(request, 404, V2Codec.encodeError("no such path: " + request.path()));
    }
  }

  private void v2(HttpServerRequest request, HttpMethod method, List<String> path) {
    if (path.size() == 1) {
      if (expect(request, method, HttpMethod.GET, true)) {
        replyAfterBody(request, 200, V2Codec.encodeServerMetadata("modelship-model-server", serverVersion));
      }
      return;
    }
    if (path.get(1).equals("health") && path.size() == 3) {
      if (path.get(2).equals("live") && expect(request, method, HttpMethod.GET, true)) {
        replyAfterBody(request, 200, V2Codec.encodeFlag("live", true));
      } else if (path.get(2).equals("ready") && expect(request, method, HttpMethod.GET, true)) {
        boolean ready = ready();
        replyAfterBody(request, ready ? 200 : 503, V2Codec.encodeFlag("ready", ready));
      } else if (!path.get(2).equals("live") && !path.get(2).equals("ready")) {
        replyAfterBody(request, 404, V2Codec.encodeError("no such path: " + request.path()));
      }
      return;
    }
    if (!path.get(1).equals("models") || path.size() < 3) {
      replyAfterBody(request, 404, V2Codec.encodeError("no such path: " + request.path()));
      return;
    }
    // /v2/models/{m}[/versions/{v}][/ready|/infer]
    String model = path.get(2);
    String version = null;
    List<String> rest = path.subList(3, path.size());
    if (rest.size() >= 2 && rest.get(0).equals("versions")) {
      version = rest.get(1);
      rest = rest.subList(2, rest.size());
    }
    if (rest.isEmpty()) {
      if (expect(request, method, HttpMethod.GET, true)) {
        metadata(request, model, version);
      }
    } else if (rest.size() == 1 && rest.get(0).equals("ready")) {
      if (expect(request, method, HttpMethod.GET, true)) {
        Optional<ModelVersion> target = resolve(model, version);
        boolean ready = !draining && target.map(ModelVersion::ready).orElse(false);
        int status = target.isEmpty() ? 404 : ready ? 200 : 503;
        replyAfterBody(request, status, target.isEmpty()
            ? V2Codec.encodeError(unknownModel(model, version))
            : V2Codec.encodeFlag("ready", ready));
      }
    } else if (rest.size() == 1 && rest.get(0).equals("infer")) {
      if (expect(request, method, HttpMethod.POST, true)) {
        infer(request, model, version, Protocol.V2);
      }
    } else {
      replyAfterBody(request, 404, V2Codec.encodeError("no such path: " + request.path()));
    }
  }

  private void metadata(HttpServerRequest request, String model, String version) {
    if (!authorized(request)) {
      replyAfterBody(request, 401, V2Codec.encodeError("missing or wrong API key"));
      return;
    }
    Optional<ModelVersion> target = resolve(model, version);
    Optional<Signature> signature = target.flatMap(ModelVersion::signature);
    if (target.isEmpty()) {
      replyAfterBody(request, 404, V2Codec.encodeError(unknownModel(model, version)));
    } else if (signature.isEmpty()) {
      replyAfterBody(request, 503, V2Codec.encodeError("model '" + model + "' is still loading"));
    } else {
      List<String> versions = registry.versions(model).stream().map(ModelVersion::version).toList();
      replyAfterBody(request, 200, V2Codec.encodeModelMetadata(model, versions, signature.get()));
    }
  }

  private void infer(HttpServerRequest request, String model, String version, Protocol protocol) {
    Optional<ModelVersion> target = resolve(model, version);
    Exchange exchange =
        new Exchange(request, target.map(ModelVersion::metrics).orElseGet(metrics::unknownModel),
            target.flatMap(ModelVersion::queue));
    readBody(request, exchange, body -> {
      try {
        exchange.warmUp = isWarmUp(request, target);
        admit(exchange, target, model, version, body, protocol);
      } catch (RuntimeException e) {
        LOG.error("{} {} failed", request.method(), request.path(), e);
        exchange.fail(new ApiError(500, "internal error"), false);
      }
    });
  }

  /** Decides, once the body is in, whether the request may reach its model, in the order a client can fix. */
  private void admit(Exchange exchange, Optional<ModelVersion> target, String model, String version, byte[] body,
      Protocol protocol) {
    if (body == null) {
      exchange.fail(new ApiError(413, "request body is larger than " + maxBodyBytes + " bytes"), true);
    } else if (!exchange.warmUp && !authorized(exchange.request)) {
      exchange.fail(new ApiError(401, "missing or wrong API key"), false);
    } else if (target.isEmpty()) {
      exchange.fail(new ApiError(404, unknownModel(model, version)), false);
    } else if (refusing) {
      exchange.fail(new ApiError(503, "the server is shutting down"), false);
    } else if (!exchange.warmUp && !target.get().ready()) {
      exchange.fail(new ApiError(503, "model '" + model + "' version " + target.get().version()
          + " is not ready (" + target.get().state() + ")"), false);
    } else if (target.get().queue().map(BatchQueue::full).orElse(false)) {
      exchange.reject();
    } else {
      run(exchange, target.get(), body, protocol);
    }
  }

  /**
   * A warm-up request the server sent itself: it carries the process's token, comes from this host (loopback,
   * or the address the connection arrived on), and is for a model version that is still warming up. Anything
   * else, a wrong token included, is an ordinary request.
   */
  private boolean isWarmUp(HttpServerRequest request, Optional<ModelVersion> target) {
    String presented = request.getHeader(WARM_UP_HEADER);
    if (presented == null || target.isEmpty() || target.get().state() != ModelState.WARMING_UP || draining) {
      return false;
    }
    if (!MessageDigest.isEqual(warmUpToken, presented.getBytes(StandardCharsets.UTF_8))) {
      return false;
    }
    SocketAddress remote = request.remoteAddress();
    SocketAddress local = request.localAddress();
    if (remote == null || remote.hostAddress() == null) {
      return false;
    }
    return isLoopback(remote.hostAddress()) || (local != null && remote.hostAddress().equals(local.hostAddress()));
  }

  private static boolean isLoopback(String address) {
    return address.startsWith("127.") || address.equals("::1") || address.equals("0:0:0:0:0:0:0:1");
  }

  private void run(Exchange exchange, ModelVersion target, byte[] body, Protocol protocol) {
    InferenceRequest decoded;
    try {
      Signature signature = target.signature().orElseThrow();
      decoded = protocol.decode.apply(body, signature);
      Optional<String> problem = target.check(decoded);
      if (problem.isPresent()) {
        throw ApiError.badRequest(problem.get());
      }
    } catch (ApiError e) {
      exchange.fail(e, false);
      return;
    }
    Context context = vertx.getOrCreateContext();
    target.infer(decoded, exchange.handOverAnnouncement(), exchange.warmUp)
        .whenComplete((result, error) -> context.runOnContext(ignored -> {
      if (error == null) {
        exchange.succeed(protocol == Protocol.V2
            ? V2Codec.encodeInfer(target.name(), target.version(), decoded.id(), result)
            : V2Codec.encodePrediction(result));
      } else {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof QueueFullException) {
          exchange.reject();
          return;
        }
        String message = cause instanceof InferenceException ? cause.getMessage() : "inference failed";
        if (!(cause instanceof InferenceException)) {
          LOG.error("inference on {} {} failed", target.name(), target.version(), cause);
        }
        exchange.fail(new ApiError(500, message), false);
      }
    }));
  }

  private Optional<ModelVersion> resolve(String model, String version) {
    return version == null ? registry.route(model) : registry.find(model, version);
  }

  private static String unknownModel(String model, String version) {
    return version == null
        ? "unknown model '" + model + "'"
        : "unknown model '" + model + "' version '" + version + "'";
  }

  private boolean authorized(HttpServerRequest request) {
    return apiKey.isEmpty()
        || apiKey.get().acceptedFrom(request.getHeader("X-API-Key"), request.getHeader(HttpHeaders.AUTHORIZATION));
  }

  private boolean expect(HttpServerRequest request, HttpMethod actual, HttpMethod wanted, boolean pathFits) {
    if (!pathFits) {
      replyAfterBody(request, 404, V2Codec.encodeError("no such path: " + request.path()));
      return false;
    }
    if (!actual.equals(wanted)) {
      request.response().putHeader(HttpHeaders.ALLOW, wanted.name());
      replyAfterBody(request, 405, V2Codec.encodeError(request.path() + " takes " + wanted.name()));
      return false;
    }
    return true;
  }

  private void replyAfterBody(HttpServerRequest request, int status, byte[] body) {
    replyAfterBody(request, status, body, JSON);
  }

  /**
   * Answers only once the request body has been read (and dropped): closing a connection with unread bytes
   * makes the kernel reset it, and the client would lose the answer.
   */
  private void replyAfterBody(HttpServerRequest request, int status, byte[] body, String contentType) {
    readBody(request, null, ignored -> request.response()
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, contentType)
        .end(Buffer.buffer(body)));
  }

  /**
   * Collects the body up to the limit; hands {@code null} on when it was larger (the rest is read and dropped
   * so the 413 reaches the client). {@code exchange} is told if the client goes away first.
   */
  private void readBody(HttpServerRequest request, Exchange exchange, Consumer<byte[]> then) {
    String declared = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    long length = declared == null ? -1 : parseLength(declared);
    boolean[] tooLarge = {length > maxBodyBytes};
    // Sized from Content-Length when it is given and allowed, so the body is not copied as it grows.
    Buffer body = length > 0 && !tooLarge[0] ? Buffer.buffer((int) length) : Buffer.buffer();
    request.handler(chunk -> {
      if (!tooLarge[0]) {
        body.appendBuffer(chunk);
        tooLarge[0] = body.length() > maxBodyBytes;
      }
    });
    request.endHandler(ignored -> then.accept(tooLarge[0] ? null : body.getBytes()));
    if (exchange != null) {
      request.exceptionHandler(error -> exchange.abandon());
      request.response().closeHandler(ignored -> exchange.abandon());
    }
  }

  private static long parseLength(String value) {
    try {
      return Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static List<String> segments(String path) {
    List<String> segments = new ArrayList<>();
    for (String segment : path.split("/")) {
      if (!segment.isEmpty()) {
        segments.add(URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8));
      }
    }
    return segments;
  }

  private enum Protocol {
    V2(V2Codec::decodeInfer),
    PREDICTIONS(V2Codec::decodePrediction);

    final BiFunction<byte[], Signature, InferenceRequest> decode;

    Protocol(BiFunction<byte[], Signature, InferenceRequest> decode) {
      this.decode = decode;
    }
  }

  /**
   * One inference request from arrival to answer: it is counted in flight and announced to its model's queue
   * on arrival, and it ends exactly once, answered or abandoned, recording its outcome and latency.
   */
  private final class Exchange {
    private final HttpServerRequest request;
    private final ModelMetrics meters;
    private final Optional<BatchQueue> queue;
    private final long arrived = System.nanoTime();
    private final AtomicBoolean announced = new AtomicBoolean();
    private final AtomicBoolean ended = new AtomicBoolean();
    /** The server's own warm-up request: never counted in the meters. Set on the event loop before admission. */
    boolean warmUp;

    Exchange(HttpServerRequest request, ModelMetrics meters, Optional<BatchQueue> queue) {
      this.request = request;
      this.meters = meters;
      this.queue = queue;
      inFlight.enter();
      if (queue.isPresent() && !refusing) {
        queue.get().announce();
        announced.set(true);
      }
    }

    /** The request goes into its queue, which takes over the announcement (if there was one). */
    boolean handOverAnnouncement() {
      return announced.getAndSet(false);
    }

    void succeed(byte[] body) {
      end(200, body, false, Outcome.SUCCESS);
    }

    void fail(ApiError error, boolean closeConnection) {
      end(error.status(), V2Codec.encodeError(error.getMessage()), closeConnection, Outcome.ofStatus(error.status()));
    }

    /** 503 with Retry-After: the model's queue is full. Counted as {@code rejected}, not as a server error. */
    void reject() {
      request.response().putHeader(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS);
      end(503, V2Codec.encodeError("the model is overloaded: its queue is full; retry after " + RETRY_AFTER_SECONDS
          + " s"), false, Outcome.REJECTED);
    }

    void abandon() {
      if (ended.compareAndSet(false, true)) {
        withdraw();
        inFlight.exit();
      }
    }

    private void end(int status, byte[] body, boolean closeConnection, Outcome outcome) {
      if (!ended.compareAndSet(false, true)) {
        return;
      }
      withdraw();
      HttpServerResponse response = request.response();
      try {
        if (!response.closed() && !response.ended()) {
          response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON);
          if (closeConnection) {
            response.putHeader(HttpHeaders.CONNECTION, "close");
          }
          response.end(Buffer.buffer(body));
        }
      } finally {
        if (!warmUp) {
          meters.request(outcome, System.nanoTime() - arrived);
        }
        inFlight.exit();
      }
    }

    private void withdraw() {
      if (announced.compareAndSet(true, false)) {
        queue.ifPresent(BatchQueue::withdraw);
      }
    }
  }

  /** Counts inference requests between arrival and answer, and lets a drain wait for none. */
  private static final class InFlight {
    private int count;

    synchronized void enter() {
      count++;
    }

    synchronized void exit() {
      count--;
      if (count == 0) {
        notifyAll();
      }
    }

    synchronized boolean awaitZero(Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (count > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      return true;
    }
  }
}
