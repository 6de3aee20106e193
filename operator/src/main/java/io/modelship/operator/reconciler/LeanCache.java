package io.modelship.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import io.javaoperatorsdk.operator.processing.event.source.informer.TransformingItemStore;

/**
 * What the informers keep of each object: everything but {@code metadata.managedFields}. Server-side apply makes
 * that list a second copy of every field each manager set (the operator's, the deployment controller's, the
 * kubelet's on pods), and nothing here reads it: the {@link io.modelship.operator.resources.Applier} compares a hash
 * annotation, and writes are applies, not updates of a cached copy. At 1,000 ModelDeployments it is most of the
 * operator's heap (docs/reliability.md, Scale).
 */
public final class LeanCache {
  private LeanCache() {}

  public static <R extends HasMetadata> ItemStore<R> store() {
    return new TransformingItemStore<>(LeanCache::withoutManagedFields);
  }

  static <R extends HasMetadata> R withoutManagedFields(R resource) {
    if (resource.getMetadata() != null) {
      resource.getMetadata().setManagedFields(null);
    }
    return resource;
  }
}
