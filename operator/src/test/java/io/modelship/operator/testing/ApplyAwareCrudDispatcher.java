package io.modelship.operator.testing;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * fabric8's CRUD mock server, taught two things a real apiserver does: server-side apply (create when absent,
 * otherwise replace what the applier sends and keep the status, which is what apply amounts to for one field
 * manager that always sends whole objects; the mock's own merge appends to arrays, so it cannot stand in),
 * server-side dry runs (answered, never stored), and a log of every write, so tests can prove a no-op reconcile
 * writes nothing. A dry run changes nothing and is not logged as a write.
 */
public class ApplyAwareCrudDispatcher extends KubernetesCrudDispatcher {
  private final List<String> writes = new CopyOnWriteArrayList<>();
  /** A body fragment whose dry runs the server refuses, as an admission webhook or policy would; null: none. */
  private volatile String refusedDryRun;
  private volatile String refusal;
  /** Picks writes to fail and the status to fail them with (409 or 500); null lets a write through. */
  private volatile Function<RecordedRequest, Integer> fault = request -> null;
  private final List<String> failedWrites = new CopyOnWriteArrayList<>();

  @Override
  public MockResponse dispatch(RecordedRequest request) {
    if (request.getPath().contains("dryRun=All")) {
      String body = request.getBody().readUtf8();
      if (refusedDryRun != null && body.contains(refusedDryRun)) {
        return status(422, "Invalid", refusal);
      }
      // The object as the server would have stored it; nothing is stored.
      return new MockResponse().setResponseCode(200).setBody(body);
    }
    if (request.method() != HttpMethod.GET) {
      Integer code = fault.apply(request);
      if (code != null) {
        failedWrites.add(code + " " + request.getMethod() + " " + request.getPath());
        return code == 409
            ? status(409, "Conflict", "Operation cannot be fulfilled: the object has been modified; please apply your"
                + " changes to the latest version and try again")
            : status(code, "InternalError", "etcdserver: request timed out");
      }
      writes.add(request.getMethod() + " " + request.getPath());
    }
    return super.dispatch(request);
  }

  @Override
  public MockResponse handlePatch(RecordedRequest request) {
    String contentType = request.getHeader("Content-Type");
    if (contentType == null || !contentType.contains("apply-patch")) {
      return super.handlePatch(request);
    }
    String path = request.getPath().split("\\?", 2)[0];
    var applied = Serialization.unmarshal(request.getBody().readUtf8(), GenericKubernetesResource.class);
    MockResponse current = handleGet(path);
    if (current.code() == 404) {
      String collection = path.substring(0, path.lastIndexOf('/'));
      return handleCreate(rewrite(request, HttpMethod.POST, collection, "application/json", json(applied)));
    }
    var existing = Serialization.unmarshal(current.getBody().readUtf8(), GenericKubernetesResource.class);
    // Apply never touches status, and the server's own metadata stays.
    if (existing.getAdditionalProperties().containsKey("status")) {
      applied.setAdditionalProperty("status", existing.getAdditionalProperties().get("status"));
    }
    applied.getMetadata().setResourceVersion(null);
    return handleUpdate(rewrite(request, HttpMethod.PUT, path, "application/json", json(applied)));
  }

  private static byte[] json(GenericKubernetesResource resource) {
    return Serialization.asJson(resource).getBytes(StandardCharsets.UTF_8);
  }

  private static RecordedRequest rewrite(RecordedRequest original, HttpMethod method, String path, String contentType, byte[] body) {
    Headers headers = Headers.builder().add("Content-Type", contentType).build();
    return new RecordedRequest(original.getHttpVersion(), method, path, headers, new Buffer(body));
  }

  /** From now on, dry runs of objects whose body contains {@code fragment} are refused with 422 and {@code message}. */
  public void refuseDryRunsOf(String fragment, String message) {
    refusal = message;
    refusedDryRun = fragment;
  }

  /**
   * From now on, writes that {@code fault} picks are answered with the status it returns (409 Conflict, or a 5xx as in
   * an etcd hiccup) and change nothing; they are kept in {@link #failedWrites()}, not in {@link #writes()}.
   */
  public void failWrites(Function<RecordedRequest, Integer> fault) {
    this.fault = fault;
  }

  /** Every write failed on purpose so far, as "CODE METHOD path". */
  public List<String> failedWrites() {
    return List.copyOf(failedWrites);
  }

  /** A failure as the apiserver answers it: a v1 Status with its code, reason and message. */
  protected static MockResponse status(int code, String reason, String message) {
    var status = new StatusBuilder().withStatus("Failure").withCode(code).withReason(reason).withMessage(message).build();
    return new MockResponse().setResponseCode(code).setHeader("Content-Type", "application/json")
        .setBody(Serialization.asJson(status));
  }

  /** Every non-GET request so far that went through, as "METHOD path". */
  public List<String> writes() {
    return List.copyOf(writes);
  }
}
