package io.modelship.operator.packaging;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesList;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/** Multi-document YAML, as helm renders it or as a user applies it, read into typed fabric8 objects. */
final class Manifests {
  private Manifests() {}

  static List<HasMetadata> parse(String yaml) {
    Object parsed = Serialization.unmarshal(yaml);
    Stream<?> items;
    if (parsed instanceof KubernetesList list) {
      items = list.getItems().stream();
    } else if (parsed instanceof List<?> list) {
      items = list.stream();
    } else {
      items = Stream.ofNullable(parsed);
    }
    return items.filter(Objects::nonNull)
        .map(o -> {
          if (!(o instanceof HasMetadata resource)) {
            throw new AssertionError("not a Kubernetes object: " + o);
          }
          return resource;
        })
        .toList();
  }

  static <T extends HasMetadata> List<T> ofKind(List<HasMetadata> resources, Class<T> type) {
    return resources.stream().filter(type::isInstance).map(type::cast).toList();
  }

  static <T extends HasMetadata> T one(List<HasMetadata> resources, Class<T> type) {
    List<T> found = ofKind(resources, type);
    if (found.size() != 1) {
      throw new AssertionError("expected exactly one " + type.getSimpleName() + ", found " + found.size());
    }
    return found.get(0);
  }
}
