package io.modelship.server.serve.registry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The model versions this server holds, by model name and version, and which version answers requests that
 * name no version. Today that is the first version registered; splitting traffic between two versions of one
 * model belongs here too when it comes. It never loads or runs models.
 */
public final class ModelRegistry {
  private final Map<String, Map<String, ModelVersion>> models = new LinkedHashMap<>();
  private final Map<String, String> routed = new LinkedHashMap<>();

  public synchronized void add(ModelVersion modelVersion) {
    Map<String, ModelVersion> versions =
        models.computeIfAbsent(modelVersion.name(), name -> new LinkedHashMap<>());
    if (versions.putIfAbsent(modelVersion.version(), modelVersion) != null) {
      throw new IllegalStateException(
          "model " + modelVersion.name() + " version " + modelVersion.version() + " is already registered");
    }
    routed.putIfAbsent(modelVersion.name(), modelVersion.version());
  }

  /** The version that answers a request for {@code name} without a version. */
  public synchronized Optional<ModelVersion> route(String name) {
    String version = routed.get(name);
    return version == null ? Optional.empty() : find(name, version);
  }

  public synchronized Optional<ModelVersion> find(String name, String version) {
    return Optional.ofNullable(models.getOrDefault(name, Map.of()).get(version));
  }

  /** Every version of {@code name}, in the order they were registered. */
  public synchronized List<ModelVersion> versions(String name) {
    return List.copyOf(models.getOrDefault(name, Map.of()).values());
  }

  public synchronized List<ModelVersion> all() {
    List<ModelVersion> all = new ArrayList<>();
    models.values().forEach(versions -> all.addAll(versions.values()));
    return all;
  }

  /** True when at least one version is held and every version held is ready. */
  public boolean allReady() {
    List<ModelVersion> all = all();
    return !all.isEmpty() && all.stream().allMatch(ModelVersion::ready);
  }
}
