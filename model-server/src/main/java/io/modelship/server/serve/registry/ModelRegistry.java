package io.modelship.server.serve.registry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The model versions this server holds, by model name and version, and which version answers requests that
 * name no version: the model's primary, or, for the share of requests its split gives, a candidate loaded beside
 * it (an in-place rollout). It never loads or runs models.
 */
public final class ModelRegistry {
  private final Map<String, Map<String, ModelVersion>> models = new LinkedHashMap<>();
  private final Map<String, Split> splits = new LinkedHashMap<>();
  /** While true, the server is not ready: it is still loading the version it was told to serve at start. */
  private volatile boolean settling;

  /**
   * How one model's unversioned requests are shared: {@code weight} percent go to {@code candidate} once it is
   * ready, the rest to {@code primary}.
   */
  public record Split(String primary, Optional<String> candidate, int weight) {
    public Split {
      if (weight < 0 || weight > 100) {
        throw new IllegalArgumentException("weight must be 0 to 100, was " + weight);
      }
      if (candidate.isPresent() && candidate.get().equals(primary)) {
        throw new IllegalArgumentException("the candidate is the primary: " + primary);
      }
    }

    static Split only(String primary) {
      return new Split(primary, Optional.empty(), 0);
    }
  }

  /** Holds a version; the first version of a model becomes its primary. */
  public synchronized void add(ModelVersion modelVersion) {
    Map<String, ModelVersion> versions =
        models.computeIfAbsent(modelVersion.name(), name -> new LinkedHashMap<>());
    if (versions.putIfAbsent(modelVersion.version(), modelVersion) != null) {
      throw new IllegalStateException(
          "model " + modelVersion.name() + " version " + modelVersion.version() + " is already registered");
    }
    splits.putIfAbsent(modelVersion.name(), Split.only(modelVersion.version()));
  }

  /** Forgets a version that is neither the primary nor the candidate of its model's split. */
  public synchronized void remove(ModelVersion modelVersion) {
    Split split = splits.get(modelVersion.name());
    if (split != null && (split.primary().equals(modelVersion.version())
        || split.candidate().filter(modelVersion.version()::equals).isPresent())) {
      throw new IllegalStateException("version " + modelVersion.version() + " is still routed");
    }
    Map<String, ModelVersion> versions = models.get(modelVersion.name());
    if (versions != null) {
      versions.remove(modelVersion.version(), modelVersion);
    }
  }

  /** Routes {@code name}'s unversioned requests by {@code split}; every version it names must be held. */
  public synchronized void route(String name, Split split) {
    Map<String, ModelVersion> versions = models.getOrDefault(name, Map.of());
    if (!versions.containsKey(split.primary())
        || split.candidate().filter(c -> !versions.containsKey(c)).isPresent()) {
      throw new IllegalStateException("cannot route " + name + " by " + split + ": a version is not held");
    }
    splits.put(name, split);
  }

  public synchronized Optional<Split> split(String name) {
    return Optional.ofNullable(splits.get(name));
  }

  /**
   * The version that answers a request for {@code name} without a version: the candidate for its weight's share
   * of requests while it is ready, else the primary.
   */
  public synchronized Optional<ModelVersion> route(String name) {
    Split split = splits.get(name);
    if (split == null) {
      return Optional.empty();
    }
    if (split.candidate().isPresent() && split.weight() > 0
        && (split.weight() == 100 || ThreadLocalRandom.current().nextInt(100) < split.weight())) {
      Optional<ModelVersion> candidate = find(name, split.candidate().get());
      if (candidate.isPresent() && candidate.get().ready()) {
        return candidate;
      }
    }
    return find(name, split.primary());
  }

  /** The version named, unless it is retiring: a version on its way out takes no new request. */
  public synchronized Optional<ModelVersion> find(String name, String version) {
    return Optional.ofNullable(models.getOrDefault(name, Map.of()).get(version)).filter(v -> !v.retiring());
  }

  /** Every version of {@code name} that takes requests, in the order they were registered. */
  public synchronized List<ModelVersion> versions(String name) {
    return models.getOrDefault(name, Map.of()).values().stream().filter(v -> !v.retiring()).toList();
  }

  public synchronized List<ModelVersion> all() {
    List<ModelVersion> all = new ArrayList<>();
    models.values().forEach(versions -> all.addAll(versions.values()));
    return all;
  }

  /** The primary version of every model held. */
  public synchronized List<ModelVersion> primaries() {
    List<ModelVersion> primaries = new ArrayList<>();
    splits.forEach((name, split) -> {
      ModelVersion primary = models.getOrDefault(name, Map.of()).get(split.primary());
      if (primary != null) {
        primaries.add(primary);
      }
    });
    return primaries;
  }

  public void settling(boolean value) {
    settling = value;
  }

  public boolean settling() {
    return settling;
  }

  /**
   * True when the server can answer every model it holds: at least one model, each with a ready primary, and
   * not settling. A candidate loading or failing beside the primary does not change it.
   */
  public boolean servingReady() {
    List<ModelVersion> primaries = primaries();
    return !settling && !primaries.isEmpty() && primaries.stream().allMatch(ModelVersion::ready);
  }
}
