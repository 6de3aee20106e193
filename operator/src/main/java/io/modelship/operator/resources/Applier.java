package io.modelship.operator.resources;

import static io.modelship.operator.api.CrdConstants.ANNOTATION_DESIRED_HASH;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.revision.Revision;
import java.util.HashMap;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes owned objects with server-side apply, and only when the desired object differs from the one we
 * last applied: the hash of the desired object rides along as an annotation, so comparing it with the cached
 * object decides without a round trip. A reconcile that changes nothing therefore writes nothing.
 *
 * <p>Trade-off: a hand edit that keeps our annotation is not reverted until the desired object changes.
 */
public final class Applier {
  public static final String FIELD_MANAGER = "modelship-operator";
  private static final Logger log = LoggerFactory.getLogger(Applier.class);

  private final KubernetesClient client;

  public Applier(KubernetesClient client) {
    this.client = client;
  }

  /** Applies {@code desired} unless {@code actual} already carries its hash; returns what is now live. */
  public <T extends HasMetadata> T apply(T desired, Optional<T> actual, Context<ModelDeployment> context) {
    if (desired instanceof Deployment deployment) {
      // Replicas change with every rollout step; they are compared on their own, so a step is a scale, not
      // a re-apply of the whole template.
      Integer replicas = deployment.getSpec().getReplicas();
      deployment.getSpec().setReplicas(null);
      String hash = Revision.canonicalHash(desired);
      deployment.getSpec().setReplicas(replicas);
      if (actual.isPresent() && hash.equals(annotation(actual.get()))) {
        scale((Deployment) actual.get(), replicas, context);
        return actual.get();
      }
      return write(desired, hash, actual, context);
    }
    String hash = Revision.canonicalHash(desired);
    if (actual.isPresent() && hash.equals(annotation(actual.get()))) {
      return actual.get();
    }
    return write(desired, hash, actual, context);
  }

  /** Sets a Deployment's replicas, and writes only when they differ. */
  public void scale(Deployment actual, int replicas, Context<ModelDeployment> context) {
    Integer current = actual.getSpec() != null ? actual.getSpec().getReplicas() : null;
    if (current != null && current == replicas) {
      return;
    }
    log.info("scaling Deployment {}/{} from {} to {}", actual.getMetadata().getNamespace(), actual.getMetadata().getName(), current, replicas);
    Deployment scaled = client.apps().deployments().inNamespace(actual.getMetadata().getNamespace())
        .withName(actual.getMetadata().getName())
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":" + replicas + "}}");
    rememberInCache(scaled, Optional.of(actual), context);
  }

  private <T extends HasMetadata> T write(T desired, String hash, Optional<T> actual, Context<ModelDeployment> context) {
    var annotations = desired.getMetadata().getAnnotations() == null
        ? new HashMap<String, String>()
        : new HashMap<>(desired.getMetadata().getAnnotations());
    annotations.put(ANNOTATION_DESIRED_HASH, hash);
    desired.getMetadata().setAnnotations(annotations);
    log.info(
        "{} {} {}/{}",
        actual.isPresent() ? "updating" : "creating",
        desired.getKind(),
        desired.getMetadata().getNamespace(),
        desired.getMetadata().getName());
    T applied = client.resource(desired).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
    rememberInCache(applied, actual, context);
    return applied;
  }

  public <T extends HasMetadata> void delete(T existing) {
    log.info(
        "deleting {} {}/{}",
        existing.getKind(),
        existing.getMetadata().getNamespace(),
        existing.getMetadata().getName());
    client.resource(existing).delete();
  }

  /**
   * Puts what we just wrote into the informer cache, so the reconcile that our own write triggers sees it
   * and does not apply it a second time.
   */
  @SuppressWarnings("unchecked")
  private <T extends HasMetadata> void rememberInCache(T applied, Optional<T> previous, Context<ModelDeployment> context) {
    if (applied == null || context == null) {
      return;
    }
    // Every kind we apply is watched (HTTPRoute only where Gateway API is installed, and only then applied).
    var source = context.eventSourceRetriever().getEventSourceFor((Class<T>) applied.getClass());
    if (source instanceof InformerEventSource<T, ModelDeployment> informer) {
      var id = ResourceID.fromResource(applied);
      if (previous.isPresent()) {
        informer.handleRecentResourceUpdate(id, applied, previous.get());
      } else {
        informer.handleRecentResourceCreate(id, applied);
      }
    }
  }

  private static String annotation(HasMetadata resource) {
    var annotations = resource.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(ANNOTATION_DESIRED_HASH);
  }
}
