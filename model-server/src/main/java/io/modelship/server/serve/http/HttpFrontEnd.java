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
import io.modelship.server.serve.http.V2Codec.Decoded;
import io.modelship.server.serve.http.V2Codec.Encoded;
import io.modelship.server.serve.registry.ServerHealth;
import io.modelship.server.serve.shadow.ShadowAdmin;
import io.modelship.server.serve.shadow.ShadowMirror;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one HTTP port: Open Inference Protocol (v2) REST with its binary tensor data extension, DJL Serving's
 * {@code /ping} and {@code /predictions}, health and {@code /metrics}. It owns routing, the body limit and timeouts,
 * the API key check, turning failures into statuses, the request meters, and the count of inference requests in
 * flight that a drain waits for. It never runs a model itself: requests go to their model version's batch queue
 * and answers come back on the event loop. Large bodies are decoded, and large answers encoded, on worker threads
 * so the event loop keeps answering health checks whatever arrives. Every request it accepts gets an answer, a
 * 5xx at worst, and is counted.
 */
public final class HttpFrontEnd {
  private static final Logger LOG = LoggerFactory.getLogger(HttpFrontEnd.class);
  private static final String JSON = "application/json";
  private static final String BINARY = "application/octet-stream";
  /**
   * The header the server's own warm-up requests carry, with a random token that never leaves the process.
   * Only such a request from this host, to a model version still warming up, gets past readiness (and the API
   * key, which the server cannot present: it keeps only the key's digest). It is never counted in metrics.
   */
  public static final String WARM_UP_HEADER = "X-Modelship-Warm-Up";
  /** Seconds a client is told to wait after a 503 for a full queue. */
  private static final String RETRY_AFTER_SECONDS = "1";
  private static final String AUTHENTICATE = "Bearer realm=\"modelship\"";
  /** Bodies up to this size are decoded on the event loop: moving them to a worker would cost more than it saves. */
  private static final int INLINE_BODY_BYTES = 64 * 1024;
  /** Answers up to this many elements are encoded on the event loop. */
  private static final long INLINE_OUTPUT_ELEMENTS = 16 * 1024;
  /** Ready made: when memory has run out, building an answer may fail too. */
  private static final byte[] OUT_OF_MEMORY =
      V2Codec.encodeError("the server ran out of memory answering this request; it reports unhealthy and restarts");

  /** The query parameter of {@code /v2/health/ready} that holds the answer until ready (see answerReady). */
  public static final String READY_WAIT_PARAM = "waitSeconds";
  static final int MAX_READY_WAIT_SECONDS = 120;
  private static final long READY_WAIT_POLL_MS = 50;
  private final Vertx vertx;
  private final ModelRegistry registry;
  private final ServerMetrics metrics;
  private final HttpLimits limits;
  private final Optional<ApiKey> apiKey;
  private final String serverVersion;
  private final byte[] warmUpToken;
  private final ServerHealth health;
  private final ShadowMirror mirror;
  private final Optional<ApiKey> adminToken;
  private final VersionsAdmin versions;
  private final InFlight inFlight = new InFlight();
  private final Connections connections;
  /** Requests whose bodies are still arriving; a drain answers them at once instead of waiting. */
  private final Set<BodyRead> arriving = ConcurrentHashMap.newKeySet();
  /** A drain has begun (SIGTERM). */
  private volatile boolean draining;
  private HttpServer server;

  public HttpFrontEnd(
      Vertx vertx,
      ModelRegistry registry,
      ServerMetrics metrics,
      HttpLimits limits,
      Optional<ApiKey> apiKey,
      String serverVersion,
      String warmUpToken,
      ServerHealth health,
      ShadowMirror mirror,
      Optional<ApiKey> adminToken,
      VersionsAdmin versions) {
    this.vertx = vertx;
    this.registry = registry;
    this.metrics = metrics;
    this.limits = limits;
    this.apiKey = apiKey;
    this.serverVersion = serverVersion;
    this.warmUpToken = warmUpToken.getBytes(StandardCharsets.UTF_8);
    this.health = health;
    this.mirror = mirror;
    this.adminToken = adminToken;
    this.versions = versions;
    this.connections = new Connections(vertx, limits.idleTimeout(), limits.maxConnectionAge());
    metrics.watchInFlight(inFlight::count);
  }

  public Future<HttpServer> listen(String host, int port) {
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(host)
            .setPort(port)
            .setTcpNoDelay(true)
            .setReuseAddress(true)
            // HTTP/1.1 only. With h2c on, Vert.x waits for a connection's first bytes before it makes the
            // connection, so one that never sends a byte would escape the idle timeout.
            .setHttp2ClearTextEnabled(false)
            // gzip and deflate request bodies (tritonclient's request compression); the body limit counts the
            // decompressed bytes, so a small compressed body cannot expand without bound.
            .setDecompressionSupported(true);
    return vertx
        .createHttpServer(options)
        .connectionHandler(connections::opened)
        .requestHandler(this::handle)
        .listen()
        .onSuccess(listening -> server = listening);
  }

  public int port() {
    return server.actualPort();
  }

  /**
   * True once every model version is ready, for as long as the server answers, a drain included: Kubernetes takes
   * a terminating pod out of its Services' ready endpoints by itself, and a readiness that stays true marks it as
   * still serving (kube-proxy falls back on serving terminating pods when no ready pod is left) without a failed
   * probe, a Warning Event, on every normal shutdown. False when the server broke.
   */
  public boolean ready() {
    return health.healthy() && registry.servingReady();
  }

  /**
   * A drain begins: requests are still served (Kubernetes removes the pod from its Services' endpoints, and
   * clients may still arrive meanwhile), but every answer from now on closes its connection, so keep-alive
   * clients open their next one to a pod that stays.
   */
  public void beginDrain() {
    draining = true;
    connections.closeAfterEachAnswer();
  }

  /**
   * The drain proper: connections with nothing in progress are closed, and requests whose bodies are still
   * arriving are answered 503 at once (a stalled upload must not hold the pod for the whole drain timeout).
   * Requests being computed are answered as usual; {@link #awaitIdle} waits for them.
   */
  public void startDraining() {
    beginDrain();
    connections.closeIdle();
    arriving.forEach(BodyRead::abortForDrain);
  }

  /** Whether a drain has begun. */
  public boolean draining() {
    return draining;
  }

  /** Waits until no inference request is in flight; false when {@code timeout} passed first. */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    return inFlight.awaitZero(timeout);
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void handle(HttpServerRequest request) {
    connections.requestStarted(request);
    request.response().endHandler(ignored -> connections.requestEnded(request));
    try {
      route(request);
    } catch (Throwable e) {
      if (ServerHealth.isFatal(e)) {
        health.fatal("routing " + request.method() + " " + request.path(), e);
      } else {
        LOG.error("{} {} failed", request.method(), request.path(), e);
      }
      send(request, 500, JSON, V2Codec.encodeError("internal error"), -1, true);
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
      case "admin" -> admin(request, method, path);
      default -> replyAfterBody(request, 404, V2Codec.encodeError("no such path: " + request.path()));
    }
  }

  /**
   * {@code GET /v2/health/ready?waitSeconds=N}: while the model is still loading or warming up, the answer waits
   * until it is ready or N seconds have passed. The pod's startup probe asks this way, so a normal start records
   * no failed probe (each is a Warning Event) however long warm-up takes, and the pod turns ready the moment the
   * model does rather than at the next poll. A server that broke or failed to load answers at once.
   */
  private void answerReady(HttpServerRequest request, long deadlineNanos) {
    boolean ready = ready();
    if (ready || !starting() || System.nanoTime() - deadlineNanos >= 0 || request.response().closed()) {
      send(request, ready ? 200 : 503, JSON, V2Codec.encodeFlag("ready", ready), -1, false);
      return;
    }
    vertx.setTimer(READY_WAIT_POLL_MS, id -> answerReady(request, deadlineNanos));
  }

  /** Still on its way to ready: healthy, and no model version failed to load or is going away. */
  private boolean starting() {
    return health.healthy() && !draining && registry.primaries().stream()
        .noneMatch(v -> v.state() == ModelState.FAILED_TO_LOAD || v.state() == ModelState.UNLOADING);
  }

  private static int parseWait(String value) {
    try {
      int seconds = Integer.parseInt(value);
      return seconds >= 0 && seconds <= MAX_READY_WAIT_SECONDS ? seconds : -1;
    } catch (NumberFormatException e) {
      return -1;
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
        boolean live = health.healthy();
        replyAfterBody(request, live ? 200 : 503, V2Codec.encodeFlag("live", live));
      } else if (path.get(2).equals("ready") && expect(request, method, HttpMethod.GET, true)) {
        String wait = request.getParam(READY_WAIT_PARAM);
        int seconds = wait == null ? 0 : parseWait(wait);
        if (seconds < 0) {
          replyAfterBody(request, 400, V2Codec.encodeError(READY_WAIT_PARAM + " must be a whole number of seconds "
              + "from 0 to " + MAX_READY_WAIT_SECONDS + ", got '" + wait + "'"));
        } else {
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
          // The (empty) body is read first: a request that has ended calls no end handler set later.
          readBody(request, null, ignored -> answerReady(request, deadline));
        }
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
        boolean ready = health.healthy() && target.map(ModelVersion::ready).orElse(false);
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
      request.response().putHeader("WWW-Authenticate", AUTHENTICATE);
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
    Optional<ModelVersion> target = enter(model, version);
    Exchange exchange = new Exchange(request, target);
    readBody(request, exchange, body -> {
      try {
        exchange.warmUp = isWarmUp(request, target);
        admit(exchange, target, model, version, body, protocol);
      } catch (Throwable e) {
        failed(exchange, "admitting the request", e);
      }
    });
  }

  /** Decides, once the body is in, whether the request may reach its model, in the order a client can fix. */
  private void admit(Exchange exchange, Optional<ModelVersion> target, String model, String version, byte[] body,
      Protocol protocol) {
    if (body == null) {
      exchange.fail(new ApiError(413, "request body is larger than " + limits.maxBodyBytes() + " bytes"), true);
    } else if (!exchange.warmUp && !authorized(exchange.request)) {
      exchange.request.response().putHeader("WWW-Authenticate", AUTHENTICATE);
      exchange.fail(new ApiError(401, "missing or wrong API key"), false);
    } else if (target.isEmpty()) {
      exchange.fail(new ApiError(404, unknownModel(model, version)), false);
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

  /** Decodes and checks the body (on a worker when it is large), queues it, and answers with the model's result. */
  private void run(Exchange exchange, ModelVersion target, byte[] body, Protocol protocol) {
    int jsonLength;
    try {
      jsonLength = protocol == Protocol.V2 ? headerLength(exchange.request, body.length) : -1;
    } catch (ApiError e) {
      exchange.fail(e, false);
      return;
    }
    Context context = vertx.getOrCreateContext();
    offload(body.length > INLINE_BODY_BYTES, () -> decode(target, body, jsonLength, protocol))
        .onComplete(decoding -> {
          if (decoding.failed()) {
            failed(exchange, "decoding the request", decoding.cause());
            return;
          }
          Decoded decoded = decoding.result();
          try {
            target.infer(decoded.request(), exchange.handOverAnnouncement(), exchange.warmUp)
                .whenComplete((result, error) -> context.runOnContext(ignored -> {
                  answer(exchange, target, decoded, protocol, result, error);
                  if (result != null && !exchange.warmUp && protocol == Protocol.V2) {
                    mirror.offer(target.name(), target.version(), body, mirroredHeaders(exchange.request),
                        result.outputs());
                  }
                }));
          } catch (Throwable e) {
            failed(exchange, "queueing the request", e);
          }
        });
  }

  /** What the mirrored request needs of the caller's headers: the framing of the body, and the API key. */
  private static Map<String, String> mirroredHeaders(HttpServerRequest request) {
    Map<String, String> headers = new HashMap<>();
    for (String name : new String[] {"Content-Type", V2Codec.HEADER_LENGTH, "X-API-Key", "Authorization"}) {
      String value = request.getHeader(name);
      if (value != null) {
        headers.put(name, value);
      }
    }
    return headers;
  }

  /**
   * {@code /admin/shadow}: GET shows the mirror's target, PUT sets it, DELETE turns mirroring off.
   * {@code /admin/versions}: GET shows the versions held and the split, PUT sets the placement. Only for the
   * operator: the request must carry {@code Authorization: Bearer <token>} with the token of
   * {@code --admin-token-file}; without that option the paths do not exist.
   */
  private void admin(HttpServerRequest request, HttpMethod method, List<String> path) {
    if (adminToken.isEmpty() || path.size() != 2
        || !(path.get(1).equals("shadow") || path.get(1).equals("versions"))) {
      replyAfterBody(request, 404, V2Codec.encodeError("no such path: " + request.path()));
      return;
    }
    if (!adminToken.get().acceptedFrom(null, request.getHeader(HttpHeaders.AUTHORIZATION))) {
      request.response().putHeader("WWW-Authenticate", AUTHENTICATE);
      replyAfterBody(request, 401, V2Codec.encodeError("missing or wrong admin token"));
      return;
    }
    if (path.get(1).equals("versions")) {
      adminVersions(request, method);
    } else if (method.equals(HttpMethod.GET)) {
      replyAfterBody(request, 200, ShadowAdmin.describe(mirror.current()));
    } else if (method.equals(HttpMethod.DELETE)) {
      mirror.off();
      replyAfterBody(request, 200, ShadowAdmin.describe(Optional.empty()));
    } else if (method.equals(HttpMethod.PUT)) {
      readBody(request, null, body -> {
        try {
          mirror.set(ShadowAdmin.parse(body));
          send(request, 200, JSON, ShadowAdmin.describe(mirror.current()), -1, false);
        } catch (IllegalArgumentException e) {
          send(request, 400, JSON, V2Codec.encodeError(e.getMessage()), -1, false);
        }
      });
    } else {
      request.response().putHeader(HttpHeaders.ALLOW, "GET, PUT, DELETE");
      replyAfterBody(request, 405, V2Codec.encodeError(request.path() + " takes GET, PUT or DELETE"));
    }
  }

  private void adminVersions(HttpServerRequest request, HttpMethod method) {
    if (method.equals(HttpMethod.GET)) {
      replyAfterBody(request, 200, versions.describe());
    } else if (method.equals(HttpMethod.PUT)) {
      readBody(request, null, body -> {
        if (body == null) {
          send(request, 413, JSON, V2Codec.encodeError("the body is too large"), -1, false);
          return;
        }
        try {
          send(request, 200, JSON, versions.apply(body), -1, false);
        } catch (IllegalArgumentException e) {
          send(request, 400, JSON, V2Codec.encodeError(e.getMessage()), -1, false);
        }
      });
    } else {
      request.response().putHeader(HttpHeaders.ALLOW, "GET, PUT");
      replyAfterBody(request, 405, V2Codec.encodeError(request.path() + " takes GET or PUT"));
    }
  }

  private static Decoded decode(ModelVersion target, byte[] body, int jsonLength, Protocol protocol) {
    Signature signature = target.signature().orElseThrow();
    Decoded decoded = protocol == Protocol.V2
        ? V2Codec.decodeInfer(body, jsonLength, signature)
        : new Decoded(V2Codec.decodePrediction(body, signature), V2Codec.OutputEncoding.JSON);
    Optional<String> problem = target.check(decoded.request());
    if (problem.isPresent()) {
      throw ApiError.badRequest(problem.get());
    }
    Optional<String> tooLarge = target.checkRows(decoded.request());
    if (tooLarge.isPresent()) {
      throw new ApiError(413, tooLarge.get());
    }
    return decoded;
  }

  private void answer(Exchange exchange, ModelVersion target, Decoded decoded, Protocol protocol,
      InferenceResult result, Throwable error) {
    if (error != null) {
      Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
      if (cause instanceof QueueFullException) {
        exchange.reject();
      } else if (cause instanceof InferenceException) {
        exchange.fail(new ApiError(500, cause.getMessage()), false);
      } else {
        failed(exchange, "running inference on " + target.name() + " " + target.version(), cause);
      }
      return;
    }
    long elements = result.outputs().stream().mapToLong(t -> t.elementCount()).sum();
    offload(elements > INLINE_OUTPUT_ELEMENTS, () -> protocol == Protocol.V2
        ? V2Codec.encodeInfer(target.name(), target.version(), decoded.request().id(), result, decoded.outputs())
        : new Encoded(V2Codec.encodePrediction(result), -1))
        .onComplete(encoding -> {
          if (encoding.failed()) {
            failed(exchange, "encoding the answer", encoding.cause());
          } else {
            exchange.succeed(encoding.result());
          }
        });
  }

  /**
   * Ends a request that failed in a way the client did not cause: a 4xx it did cause (an {@link ApiError}) goes
   * through as it is; anything else is a 500, and an error that leaves the JVM in doubt marks the server broken.
   */
  private void failed(Exchange exchange, String doing, Throwable error) {
    if (error instanceof ApiError apiError) {
      exchange.fail(apiError, false);
      return;
    }
    if (ServerHealth.isFatal(error)) {
      health.fatal(doing, error);
      exchange.end(500, JSON, OUT_OF_MEMORY, -1, true, Outcome.SERVER_ERROR);
      return;
    }
    LOG.error("{} failed", doing, error);
    exchange.fail(new ApiError(500, "internal error while " + doing), false);
  }

  /** Runs {@code work} on a worker thread when it is heavy, else here; either way failures become the future's. */
  private <T> Future<T> offload(boolean heavy, Callable<T> work) {
    if (heavy) {
      return vertx.executeBlocking(work, false);
    }
    try {
      return Future.succeededFuture(work.call());
    } catch (Throwable e) {
      return Future.failedFuture(e);
    }
  }

  /** The binary extension's header: where the JSON part of the body ends; -1 when the client sent none. */
  private static int headerLength(HttpServerRequest request, int bodyLength) {
    String value = request.getHeader(V2Codec.HEADER_LENGTH);
    if (value == null) {
      return -1;
    }
    try {
      int length = Integer.parseInt(value.trim());
      if (length < 0 || length > bodyLength) {
        throw ApiError.badRequest(V2Codec.HEADER_LENGTH + " must be between 0 and the body's length, "
            + bodyLength + "; was " + length);
      }
      return length;
    } catch (NumberFormatException e) {
      throw ApiError.badRequest(V2Codec.HEADER_LENGTH + " must be a whole number of bytes, was '" + value + "'");
    }
  }

  private Optional<ModelVersion> resolve(String model, String version) {
    return version == null ? registry.route(model) : registry.find(model, version);
  }

  /**
   * Resolves the version a request goes to and enters it, so that a version retired meanwhile is not unloaded
   * under the request; a version that began retiring between the two is resolved again.
   */
  private Optional<ModelVersion> enter(String model, String version) {
    for (int attempt = 0; attempt < 8; attempt++) {
      Optional<ModelVersion> target = resolve(model, version);
      if (target.isEmpty() || target.get().enter()) {
        return target;
      }
    }
    return Optional.empty();
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
    readBody(request, null, ignored -> send(request, status, contentType, body, -1, false));
  }

  /**
   * Writes an answer. During a drain, or when asked, the answer says "Connection: close" and the connection is
   * closed once it is written.
   */
  private void send(HttpServerRequest request, int status, String contentType, byte[] body, int jsonLength,
      boolean closeConnection) {
    HttpServerResponse response = request.response();
    if (response.closed() || response.ended()) {
      return;
    }
    boolean close = closeConnection || connections.closeAfter(request);
    response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, contentType);
    if (jsonLength >= 0) {
      response.putHeader(V2Codec.HEADER_LENGTH, String.valueOf(jsonLength));
    }
    if (close) {
      response.putHeader(HttpHeaders.CONNECTION, "close");
    }
    Future<Void> written = response.end(Buffer.buffer(body));
    if (close) {
      written.onComplete(ignored -> request.connection().close());
    }
  }

  /**
   * Collects the body up to the limit; hands {@code null} on when it was larger (the rest is read and dropped
   * so the 413 reaches the client). A body that does not arrive within the body timeout is answered 408, one
   * whose framing is broken (a bad chunk size) 400; both close the connection. {@code exchange} is told if the
   * client goes away first.
   */
  private void readBody(HttpServerRequest request, Exchange exchange, Consumer<byte[]> then) {
    String declared = request.getHeader(HttpHeaders.CONTENT_LENGTH);
    long length = declared == null ? -1 : parseLength(declared);
    boolean[] tooLarge = {length > limits.maxBodyBytes()};
    BodyBytes body = new BodyBytes(tooLarge[0] ? -1 : length);
    BodyRead read = new BodyRead(request, exchange);
    request.handler(chunk -> {
      if (!tooLarge[0]) {
        body.add(chunk);
        tooLarge[0] = body.length() > limits.maxBodyBytes();
      }
    });
    request.endHandler(ignored -> {
      if (read.finish()) {
        then.accept(tooLarge[0] ? null : body.bytes());
      }
    });
    request.exceptionHandler(error -> {
      if (!read.finish()) {
        return;
      }
      if (request.response().closed()) {
        if (exchange != null) {
          exchange.abandon();
        }
      } else {
        read.fail(new ApiError(400, "the request could not be read: " + malformation(error)));
        flushNow(request);
      }
    });
    if (exchange != null) {
      request.response().closeHandler(ignored -> exchange.abandon());
    }
  }

  /**
   * Vert.x closes a connection whose request framing broke right after this handler returns, and holds writes
   * made while it reads until the read ends: without a flush here the 400 would never leave. The flush is not in
   * Vert.x's public API (4.5), hence the cast; without it the client sees the connection close instead.
   */
  private static void flushNow(HttpServerRequest request) {
    if (request.connection() instanceof io.vertx.core.net.impl.ConnectionBase connection) {
      connection.flush();
    }
  }

  /** What broke in the framing of a request, in HTTP's words; never the library's. */
  private static String malformation(Throwable error) {
    String message = String.valueOf(error.getMessage()).toLowerCase(java.util.Locale.ROOT);
    if (error instanceof NumberFormatException || message.contains("chunk")) {
      return "its chunked transfer encoding is malformed (a chunk size must be hexadecimal digits)";
    }
    if (message.contains("too long") || message.contains("larger than")) {
      return "a header or chunk line is too long";
    }
    return "its HTTP framing is malformed";
  }

  /**
   * A request body as it arrives, copied as little as possible: a body in one chunk stays the buffer Vert.x
   * delivered (its own copy, which the handler may keep); one in several is gathered into a buffer sized from
   * Content-Length when that is given, so it never grows. Its bytes are the buffer's own array when that array is
   * exactly the body, a copy otherwise.
   */
  private static final class BodyBytes {
    private final long declared;
    private Buffer first;
    private Buffer gathered;

    /** @param declared the Content-Length, or -1 when unknown or too large to reserve */
    BodyBytes(long declared) {
      this.declared = declared;
    }

    void add(Buffer chunk) {
      if (gathered != null) {
        gathered.appendBuffer(chunk);
      } else if (first == null) {
        first = chunk;
      } else {
        gathered = declared > 0 && declared <= Integer.MAX_VALUE ? Buffer.buffer((int) declared) : Buffer.buffer();
        gathered.appendBuffer(first).appendBuffer(chunk);
        first = null;
      }
    }

    int length() {
      return gathered != null ? gathered.length() : first != null ? first.length() : 0;
    }

    byte[] bytes() {
      Buffer body = gathered != null ? gathered : first;
      if (body == null) {
        return new byte[0];
      }
      io.netty.buffer.ByteBuf bytes = body.getByteBuf();
      if (bytes.hasArray() && bytes.arrayOffset() == 0 && bytes.readerIndex() == 0
          && bytes.array().length == body.length()) {
        return bytes.array();
      }
      return body.getBytes();
    }
  }

  /** One body being read: ends exactly once, by arriving, by failing, by timing out, or by a drain. */
  private final class BodyRead {
    private final HttpServerRequest request;
    private final Exchange exchange;
    private final Context context = Vertx.currentContext();
    private final AtomicBoolean done = new AtomicBoolean();
    private final long timer;

    BodyRead(HttpServerRequest request, Exchange exchange) {
      this.request = request;
      this.exchange = exchange;
      long timeout = limits.bodyTimeout().toMillis();
      this.timer = timeout > 0
          ? vertx.setTimer(timeout, ignored -> {
            if (finish()) {
              fail(new ApiError(408, "the request body did not arrive within " + timeout + " ms"));
            }
          })
          : -1;
      arriving.add(this);
    }

    boolean finish() {
      if (!done.compareAndSet(false, true)) {
        return false;
      }
      arriving.remove(this);
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
      return true;
    }

    /** Ends the request with {@code error} and closes the connection: the rest of its body will not be read. */
    void fail(ApiError error) {
      if (exchange != null) {
        exchange.fail(error, true);
      } else {
        send(request, error.status(), JSON, V2Codec.encodeError(error.getMessage()), -1, true);
      }
    }

    void abortForDrain() {
      Runnable abort = () -> {
        if (finish()) {
          request.response().putHeader(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS);
          fail(new ApiError(503, "the server is shutting down and the request body had not arrived yet"));
        }
      };
      if (context == null) {
        abort.run();
      } else {
        context.runOnContext(ignored -> abort.run());
      }
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
    V2,
    PREDICTIONS
  }

  /**
   * One inference request from arrival to answer: it is counted in flight and announced to its model's queue
   * on arrival, and it ends exactly once, answered or abandoned, recording its outcome and latency.
   */
  private final class Exchange {
    private final HttpServerRequest request;
    private final ModelMetrics meters;
    private final Optional<BatchQueue> queue;
    /** The version the request entered, left when it ends. */
    private final Optional<ModelVersion> entered;
    private final long arrived = System.nanoTime();
    private final AtomicBoolean announced = new AtomicBoolean();
    private final AtomicBoolean ended = new AtomicBoolean();
    /** The server's own warm-up request: never counted in the meters. Set on the event loop before admission. */
    boolean warmUp;

    Exchange(HttpServerRequest request, Optional<ModelVersion> entered) {
      this.request = request;
      this.entered = entered;
      this.meters = entered.map(ModelVersion::metrics).orElseGet(metrics::unknownModel);
      this.queue = entered.flatMap(ModelVersion::queue);
      inFlight.enter();
      if (queue.isPresent()) {
        queue.get().announce();
        announced.set(true);
      }
    }

    /** The request goes into its queue, which takes over the announcement (if there was one). */
    boolean handOverAnnouncement() {
      return announced.getAndSet(false);
    }

    void succeed(Encoded answer) {
      end(200, answer.binary() ? BINARY : JSON, answer.body(), answer.jsonLength(), false, Outcome.SUCCESS);
    }

    void fail(ApiError error, boolean closeConnection) {
      end(error.status(), JSON, V2Codec.encodeError(error.getMessage()), -1, closeConnection,
          Outcome.ofStatus(error.status()));
    }

    /** 503 with Retry-After: the model's queue is full. Counted as {@code rejected}, not as a server error. */
    void reject() {
      request.response().putHeader(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS);
      end(503, JSON, V2Codec.encodeError("the model is overloaded: its queue is full; retry after "
          + RETRY_AFTER_SECONDS + " s"), -1, false, Outcome.REJECTED);
    }

    void abandon() {
      if (ended.compareAndSet(false, true)) {
        withdraw();
        entered.ifPresent(ModelVersion::exit);
        inFlight.exit();
      }
    }

    void end(int status, String contentType, byte[] body, int jsonLength, boolean closeConnection,
        Outcome outcome) {
      if (!ended.compareAndSet(false, true)) {
        return;
      }
      withdraw();
      try {
        send(request, status, contentType, body, jsonLength, closeConnection);
      } catch (Throwable e) {
        // Not even the answer could be written: the client sees the connection close instead of waiting.
        if (ServerHealth.isFatal(e)) {
          health.fatal("writing an answer", e);
        } else {
          LOG.error("writing the answer to {} {} failed", request.method(), request.path(), e);
        }
        request.connection().close();
      } finally {
        if (!warmUp) {
          meters.request(outcome, System.nanoTime() - arrived);
        }
        entered.ifPresent(ModelVersion::exit);
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

    synchronized int count() {
      return count;
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
