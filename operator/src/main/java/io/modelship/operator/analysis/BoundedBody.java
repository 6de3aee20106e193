package io.modelship.operator.analysis;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * A response body read as UTF-8 text up to a size limit. The operator keeps every scrape in memory, so one pod
 * or Prometheus answering with an endless body must cost a failed read, never the operator's heap.
 */
final class BoundedBody implements HttpResponse.BodySubscriber<String> {
  private final int limit;
  private final boolean truncate;
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final CompletableFuture<String> result = new CompletableFuture<>();
  private Flow.Subscription subscription;

  private BoundedBody(int limit, boolean truncate) {
    this.limit = limit;
    this.truncate = truncate;
  }

  /** Fails the read when the body is larger than {@code limit}: for bodies that are useless when cut. */
  static HttpResponse.BodyHandler<String> handler(int limit) {
    return info -> new BoundedBody(limit, false);
  }

  /** Keeps the first {@code limit} bytes and stops reading: for bodies only quoted in a message. */
  static HttpResponse.BodyHandler<String> truncating(int limit) {
    return info -> new BoundedBody(limit, true);
  }

  @Override
  public CompletionStage<String> getBody() {
    return result;
  }

  @Override
  public void onSubscribe(Flow.Subscription s) {
    subscription = s;
    s.request(Long.MAX_VALUE);
  }

  @Override
  public void onNext(List<ByteBuffer> buffers) {
    for (ByteBuffer buffer : buffers) {
      if (result.isDone()) {
        return;
      }
      if (bytes.size() + buffer.remaining() > limit) {
        subscription.cancel();
        if (truncate) {
          byte[] head = new byte[limit - bytes.size()];
          buffer.get(head);
          bytes.write(head, 0, head.length);
          result.complete(bytes.toString(StandardCharsets.UTF_8));
        } else {
          result.completeExceptionally(new IllegalStateException("body larger than " + limit + " bytes"));
        }
        return;
      }
      byte[] chunk = new byte[buffer.remaining()];
      buffer.get(chunk);
      bytes.write(chunk, 0, chunk.length);
    }
  }

  @Override
  public void onError(Throwable error) {
    result.completeExceptionally(error);
  }

  @Override
  public void onComplete() {
    // A no-op after a truncation already completed it.
    result.complete(bytes.toString(StandardCharsets.UTF_8));
  }
}
