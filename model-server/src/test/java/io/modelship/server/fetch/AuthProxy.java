package io.modelship.server.fetch;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * An authenticating reverse proxy in front of the MLflow server, as teams deploy it (an ingress checking a bearer
 * token or basic credentials): 401 without the expected Authorization header, otherwise the request is passed on
 * with its Range header and the answer copied back. Records every request path it saw.
 */
final class AuthProxy implements AutoCloseable {

  private final HttpServer server;
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final String upstream;
  private final String expectedAuthorization;
  final List<String> authorizedPaths = new CopyOnWriteArrayList<>();
  final String uri;

  AuthProxy(String upstream, String expectedAuthorization) throws IOException {
    this.upstream = upstream;
    this.expectedAuthorization = expectedAuthorization;
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.createContext("/", this::handle);
    server.start();
    this.uri = "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!expectedAuthorization.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
        exchange.sendResponseHeaders(401, -1);
        return;
      }
      authorizedPaths.add(exchange.getRequestURI().getPath());
      HttpRequest.Builder forward =
          HttpRequest.newBuilder(URI.create(upstream + exchange.getRequestURI()))
              .method(exchange.getRequestMethod(), HttpRequest.BodyPublishers.noBody());
      String range = exchange.getRequestHeaders().getFirst("Range");
      if (range != null) {
        forward.header("Range", range);
      }
      HttpResponse<InputStream> answer = client.send(forward.build(), HttpResponse.BodyHandlers.ofInputStream());
      for (String header : List.of("Content-Type", "Content-Range", "Accept-Ranges")) {
        answer.headers().firstValue(header).ifPresent(v -> exchange.getResponseHeaders().set(header, v));
      }
      java.util.OptionalLong declared = answer.headers().firstValueAsLong("Content-Length");
      boolean head = exchange.getRequestMethod().equals("HEAD");
      if (head) {
        declared.ifPresent(n -> exchange.getResponseHeaders().set("Content-Length", Long.toString(n)));
      }
      // HttpServer's length argument: -1 no body, 0 chunked (length unknown), n exactly n bytes.
      long length = head ? -1 : declared.isEmpty() ? 0 : declared.getAsLong() == 0 ? -1 : declared.getAsLong();
      exchange.sendResponseHeaders(answer.statusCode(), length);
      try (InputStream in = answer.body(); OutputStream out = exchange.getResponseBody()) {
        in.transferTo(out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
