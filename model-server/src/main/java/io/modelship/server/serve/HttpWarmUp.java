package io.modelship.server.serve;

import io.modelship.server.serve.http.HttpFrontEnd;
import io.modelship.server.serve.http.V2Codec;
import io.modelship.server.serve.model.Tensor;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The second half of warm-up: real {@code POST /v2/models/{m}/versions/{v}/infer} requests the server sends to
 * its own port, so that accepting a connection, Vert.x's request handling, the v2 decoder and encoder and the
 * response writer have all run before readiness turns true. Without it the first client request after ready
 * took 9 to 23 times a warm one (docs/benchmarks.md); and with only a few dozen of them a fresh pod still answered
 * at twice a warm pod's median minutes later, because the JIT compiles a method fully only after some thousands
 * of calls (docs/rollout-gates.md). They go over {@link #CONNECTIONS} connections at once; every tenth request
 * comes on a fresh connection, the others on kept-alive ones: the two ways clients arrive. It stops after
 * {@link #BUDGET} whatever the count, so a slow model does not wait minutes to turn ready. It reports whether the
 * JIT was still compiling during the second half of the requests: how the server knows whether its request path
 * reached steady state before ready (on one core, with 5,000 requests, it had not: docs/benchmarks.md). They carry the process's warm-up token
 * ({@link HttpFrontEnd#WARM_UP_HEADER}), which the front end accepts only from this host and only while the
 * model version warms up. A failure here is logged and warm-up goes on: the engine warm-up already proved the
 * model runs.
 */
final class HttpWarmUp {
  private static final Logger LOG = LoggerFactory.getLogger(HttpWarmUp.class);
  private static final int TIMEOUT_MS = 10_000;
  /** The longest HTTP warm-up: what a pod's start may cost for a warm JIT. */
  static final Duration BUDGET = Duration.ofSeconds(15);
  /**
   * Requests in flight at once. One at a time, a fresh pod on a busy node managed 250-640 requests in the 15 s
   * (each waits for three threads to be scheduled in turn); in parallel the waits overlap, and the batching path
   * is warmed with real batches too.
   */
  static final int CONNECTIONS = 4;
  /** JIT compilations in at most this share of warm-up's second half: the request path is compiled. */
  static final int JIT_STEADY_PERCENT = 5;

  private HttpWarmUp() {}

  /** Returns how many requests were answered 200. */
  static int run(String label, String listenHost, int port, String token, String model, String version,
      List<Tensor> inputs, int requests) {
    if (requests <= 0) {
      return 0;
    }
    InetAddress address;
    try {
      address = ownAddress(listenHost);
    } catch (IOException e) {
      LOG.warn("{}: no HTTP warm-up, cannot resolve {}: {}", label, listenHost, e.getMessage());
      return 0;
    }
    byte[] body = V2Codec.encodeRequest(inputs);
    String path = "/v2/models/" + segment(model) + "/versions/" + segment(version) + "/infer";
    byte[] head = ("POST " + path + " HTTP/1.1\r\n"
        + "Host: " + address.getHostAddress() + ":" + port + "\r\n"
        + "Content-Type: application/json\r\n"
        + "Content-Length: " + body.length + "\r\n"
        + HttpFrontEnd.WARM_UP_HEADER + ": " + token + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    long started = System.nanoTime();
    long deadline = started + BUDGET.toNanos();
    // Two halves, the same way: the second half's JIT activity says whether the first half compiled the path.
    int connections = Math.min(CONNECTIONS, requests);
    Phase first = phase(label, address, port, head, body, requests - requests / 2, connections, deadline);
    long compiledBefore = compilationMillis();
    long secondStart = System.nanoTime();
    Phase second = first.stopped() ? new Phase(0, true)
        : phase(label, address, port, head, body, requests / 2, connections, deadline);
    long secondMillis = (System.nanoTime() - secondStart) / 1_000_000;
    long compiledAfter = compilationMillis();
    int answered = first.answered() + second.answered();
    LOG.info("{}: HTTP warm-up answered {} of {} request(s) on {}:{} over {} connections in {} ms{}", label, answered,
        requests, address.getHostAddress(), port, connections, (System.nanoTime() - started) / 1_000_000,
        first.stopped() ? "" : jitReport(compiledBefore, compiledAfter, secondMillis));
    return answered;
  }

  /**
   * Whether the JIT was still compiling during the second half of warm-up. The JVM counts the elapsed time of each
   * compilation, summed over its compiler threads (so it can exceed the wall time when compilations wait for a
   * core); a few percent of the wall time means the request path was compiled. Empty when not measured.
   */
  static String jitReport(long compiledBefore, long compiledAfter, long wallMillis) {
    if (compiledBefore < 0 || compiledAfter < 0 || wallMillis <= 0) {
      return "";
    }
    long compiling = compiledAfter - compiledBefore;
    long percent = Math.round(100.0 * compiling / wallMillis);
    return "; in its second half (%d ms) JIT compilations ran for %d ms (%d%%): %s".formatted(wallMillis, compiling,
        percent, percent <= JIT_STEADY_PERCENT ? "steady"
            : "still compiling, so the first requests after ready may be slower than warm ones");
  }

  /** Total JIT compilation time of this JVM so far in ms, or -1 when it is not measured. */
  private static long compilationMillis() {
    CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
  }

  /** What one phase of warm-up did: requests answered 200, and whether it stopped early (failure, budget). */
  private record Phase(int answered, boolean stopped) {}

  private static Phase phase(String label, InetAddress address, int port, byte[] head, byte[] body, int requests,
      int connections, long deadline) {
    var tickets = new AtomicInteger();
    var answered = new AtomicInteger();
    var stop = new AtomicBoolean();
    Runnable worker = () -> {
      Socket kept = null;
      try {
        for (int i = tickets.getAndIncrement(); i < requests && !stop.get() && System.nanoTime() < deadline;
            i = tickets.getAndIncrement()) {
          boolean fresh = i % 10 == 0;
          Socket socket = fresh ? connect(address, port) : kept == null ? (kept = connect(address, port)) : kept;
          try {
            Answer answer = exchange(socket, head, body);
            if (answer.status() != 200) {
              LOG.warn("{}: HTTP warm-up request {} answered {}; stopping HTTP warm-up", label, i + 1,
                  answer.status());
              stop.set(true);
              break;
            }
            answered.incrementAndGet();
            if (answer.close() && !fresh) {
              // The server ends old keep-alive connections (--max-connection-age-ms), warm-up's too.
              kept.close();
              kept = null;
            }
          } finally {
            if (fresh) {
              socket.close();
            }
          }
        }
      } catch (IOException e) {
        if (!stop.getAndSet(true)) {
          LOG.warn("{}: HTTP warm-up stopped after {} request(s): {}", label, answered.get(), e.toString());
        }
      } finally {
        if (kept != null) {
          try {
            kept.close();
          } catch (IOException e) {
            LOG.debug("closing a warm-up connection", e);
          }
        }
      }
    };
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < Math.min(connections, requests); w++) {
      Thread t = new Thread(worker, "http-warm-up-" + w);
      t.setDaemon(true);
      t.start();
      workers.add(t);
    }
    for (Thread t : workers) {
      try {
        t.join();
      } catch (InterruptedException e) {
        stop.set(true);
        Thread.currentThread().interrupt();
        break;
      }
    }
    return new Phase(answered.get(), stop.get() || System.nanoTime() >= deadline);
  }

  /** Where this process can reach its own listener: loopback when it listens on every address. */
  private static InetAddress ownAddress(String listenHost) throws IOException {
    if (listenHost == null || listenHost.isBlank() || listenHost.equals("0.0.0.0") || listenHost.equals("::")
        || listenHost.equals("[::]")) {
      return InetAddress.getLoopbackAddress();
    }
    return InetAddress.getByName(listenHost);
  }

  private static String segment(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static Socket connect(InetAddress address, int port) throws IOException {
    Socket socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.setSoTimeout(TIMEOUT_MS);
    socket.connect(new InetSocketAddress(address, port), TIMEOUT_MS);
    return socket;
  }

  /** An answer's status, and whether the server will close the connection after it. */
  private record Answer(int status, boolean close) {}

  /** Sends one request and reads its answer to the end (by Content-Length). */
  private static Answer exchange(Socket socket, byte[] head, byte[] body) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(head);
    out.write(body);
    out.flush();
    InputStream in = new BufferedInputStream(socket.getInputStream());
    String statusLine = line(in);
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP answer: " + statusLine);
    }
    int status = Integer.parseInt(parts[1]);
    long length = -1;
    boolean close = false;
    for (String header = line(in); !header.isEmpty(); header = line(in)) {
      int colon = header.indexOf(':');
      String name = colon > 0 ? header.substring(0, colon).trim().toLowerCase(Locale.ROOT) : "";
      if (name.equals("content-length")) {
        length = Long.parseLong(header.substring(colon + 1).trim());
      } else if (name.equals("connection")) {
        close = header.substring(colon + 1).trim().equalsIgnoreCase("close");
      }
    }
    if (length < 0) {
      throw new IOException("answer without Content-Length");
    }
    for (long left = length; left > 0; ) {
      long skipped = in.skip(left);
      if (skipped <= 0) {
        if (in.read() < 0) {
          throw new IOException("connection closed in the answer's body");
        }
        skipped = 1;
      }
      left -= skipped;
    }
    return new Answer(status, close);
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      if (b < 0) {
        throw new IOException("connection closed in the answer's head");
      }
      if (b != '\r') {
        bytes.write(b);
      }
    }
    return bytes.toString(StandardCharsets.US_ASCII);
  }
}
