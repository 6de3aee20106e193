package io.modelship.operator.source;

import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.MlflowSource;
import io.modelship.operator.api.status.HistoryEntry;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes how a rollout ended back to the MLflow version it rolled out, as tags data scientists see in the MLflow UI:
 * {@code modelship.io/outcome} (promoted, rolled-back or aborted), {@code modelship.io/reason},
 * {@code modelship.io/model-deployment} and {@code modelship.io/at}. Off the reconcile thread (a slow registry must
 * not hold a rollout up), best effort: a failure is a Warning Event and a log line, never a retry storm.
 */
public final class RegistryWriteBack implements AutoCloseable {
  public static final String OUTCOME = "modelship.io/outcome";
  public static final String REASON = "modelship.io/reason";
  public static final String DEPLOYMENT = "modelship.io/model-deployment";
  public static final String AT = "modelship.io/at";
  private static final Logger log = LoggerFactory.getLogger(RegistryWriteBack.class);

  private final MlflowRegistry registry;
  private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "mlflow-write-back");
    t.setDaemon(true);
    return t;
  });

  public RegistryWriteBack(MlflowRegistry registry) {
    this.registry = registry;
  }

  /**
   * Tags the version a rollout ended with, if it came from MLflow.
   *
   * @param pinned the ModelDeployment as the pass saw it, its source pinned to a version
   * @param credentials where the registry's Authorization header comes from (the spec's credentials Secret)
   * @param failed called with a message when the registry refused the tags
   */
  public void ended(ModelDeployment pinned, HistoryEntry ended, SourceTracker credentials,
      BiConsumer<ModelDeployment, String> failed) {
    MlflowSource mlflow = pinned.getSpec().getModel().getSource().getMlflow();
    String version = Optional.ofNullable(ended.getModelVersion()).orElse(mlflow != null ? mlflow.getVersion() : null);
    if (mlflow == null || version == null || ended.getOutcome() == null) {
      return;
    }
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put(OUTCOME, switch (ended.getOutcome()) {
      case Promoted -> "promoted";
      case RolledBack -> "rolled-back";
      case Aborted -> "aborted";
    });
    tags.put(REASON, ended.getReason() != null ? ended.getReason() : "");
    tags.put(DEPLOYMENT, pinned.getMetadata().getNamespace() + "/" + pinned.getMetadata().getName());
    tags.put(AT, ended.getAt() != null ? ended.getAt() : "");
    writer.execute(() -> {
      try {
        registry.tag(mlflow.getTrackingUri(), credentials.authorization(pinned, mlflow), mlflow.getName(), version, tags);
        log.info("{}/{}: tagged MLflow model '{}' version {} {}={}", pinned.getMetadata().getNamespace(),
            pinned.getMetadata().getName(), mlflow.getName(), version, OUTCOME, tags.get(OUTCOME));
      } catch (MlflowRegistry.RegistryException e) {
        log.warn("{}/{}: {}", pinned.getMetadata().getNamespace(), pinned.getMetadata().getName(), e.getMessage());
        failed.accept(pinned, "the rollout's outcome could not be written to MLflow: " + e.getMessage());
      } catch (RuntimeException e) {
        log.warn("{}/{}: writing the outcome to MLflow failed", pinned.getMetadata().getNamespace(),
            pinned.getMetadata().getName(), e);
      }
    });
  }

  @Override
  public void close() {
    writer.shutdownNow();
  }
}
