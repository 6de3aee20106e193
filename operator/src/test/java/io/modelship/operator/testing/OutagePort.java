package io.modelship.operator.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay on 127.0.0.1 in front of a real server, that a test can take down: while up, it passes bytes both
 * ways untouched (signed requests stay valid); while down, it answers every request {@code 503} with an S3-style
 * error body and closes, and counts the requests it refused. Taking it down also cuts the connections open through
 * it, so a client's kept-alive connection cannot slip past the outage.
 */
public final class OutagePort implements AutoCloseable {
  private static final byte[] UNAVAILABLE;

  static {
    String body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>ServiceUnavailable</Code>"
        + "<Message>down for the test</Message></Error>";
    UNAVAILABLE = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: "
        + body.length() + "\r\nConnection: close\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII);
  }

  private final ServerSocket server;
  private final int targetPort;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread thread = new Thread(r, "outage-port");
    thread.setDaemon(true);
    return thread;
  });
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final AtomicInteger refused = new AtomicInteger();
  private volatile boolean down;

  public OutagePort(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    threads.submit(this::accept);
  }

  public String endpoint() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  /** From now on every request is refused; connections open through the relay are cut. */
  public void down() {
    down = true;
    for (Socket socket : open) {
      closeQuietly(socket);
    }
  }

  public void up() {
    down = false;
  }

  /** Requests refused while down. */
  public int refused() {
    return refused.get();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        threads.submit(() -> serve(client));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket client) {
    open.add(client);
    try (client) {
      if (down) {
        readHead(client.getInputStream());
        refused.incrementAndGet();
        client.getOutputStream().write(UNAVAILABLE);
        client.getOutputStream().flush();
        return;
      }
      try (Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort)) {
        open.add(upstream);
        threads.submit(() -> copy(client, upstream));
        copy(upstream, client);
      } finally {
        open.removeIf(Socket::isClosed);
      }
    } catch (IOException e) {
      // the client went away, or the relay was taken down under it
    } finally {
      open.remove(client);
    }
  }

  private static void copy(Socket from, Socket to) {
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      byte[] buffer = new byte[16 * 1024];
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // one side closed
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  /** Reads a request's head (the requests refused here carry no body). */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    for (int b = in.read(); b >= 0 && head.size() < 64 * 1024; b = in.read()) {
      head.write(b);
      matched = b == end[matched] ? matched + 1 : b == '\r' ? 1 : 0;
      if (matched == end.length) {
        break;
      }
    }
    return head.toString(StandardCharsets.US_ASCII);
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    open.forEach(OutagePort::closeQuietly);
    threads.shutdownNow();
  }
}
