package io.modelship.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.RegisteredController;
import io.javaoperatorsdk.operator.api.config.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.javaoperatorsdk.operator.health.InformerWrappingEventSourceHealthIndicator;
import io.javaoperatorsdk.operator.health.Status;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.javaoperatorsdk.operator.processing.retry.GenericRetry;
import io.micrometer.core.instrument.MeterRegistry;
import io.modelship.operator.analysis.CanaryAnalysis;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.metrics.RolloutMetrics;
import io.modelship.operator.reconciler.ModelDeploymentReconciler;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Wires the reconciler into a java-operator-sdk Operator. The process entry point and the scenario tests both
 * go through here, so what the tests run is what a cluster runs.
 */
public final class ModelshipOperator implements AutoCloseable {
  /** The leader-election Lease; the Helm chart's Role names it too. */
  public static final String LEASE_NAME = "modelship-operator";

  private final Operator operator;
  private final ModelDeploymentReconciler reconciler;
  private final Readiness readiness;

  public ModelshipOperator(
      KubernetesClient client, OperatorConfig config, MeterRegistry registry, Clock clock, CanaryAnalysis analysis) {
    this(client, config, registry, clock, analysis, o -> {});
  }

  /** @param tuning test hook: adjusts the controller configuration (e.g. a short max reconciliation interval) */
  public ModelshipOperator(
      KubernetesClient client,
      OperatorConfig config,
      MeterRegistry registry,
      Clock clock,
      CanaryAnalysis analysis,
      Consumer<ControllerConfigurationOverrider<?>> tuning) {
    operator =
        new Operator(
            o -> {
              o.withKubernetesClient(client)
                  .withMetrics(MicrometerMetrics.newPerResourceCollectingMicrometerMetricsBuilder(registry).build())
                  // Status is patched as a JSON patch computed against the object we reconciled: exact on a
                  // real apiserver and on the test server alike.
                  .withUseSSAToPatchPrimaryResource(false)
                  .withCloseClientOnStop(false)
                  .withReconciliationTerminationTimeout(Duration.ofSeconds(20));
              if (config.leaderElection()) {
                o.withLeaderElectionConfiguration(
                    new LeaderElectionConfiguration(LEASE_NAME, config.leaseNamespace()));
              }
            });
    reconciler = new ModelDeploymentReconciler(config, clock, analysis, new RolloutMetrics(registry));
    operator.register(
        reconciler,
        o -> {
          if (config.watchNamespaces().isEmpty()) {
            o.watchingAllNamespaces();
          } else {
            o.settingNamespaces(config.watchNamespaces());
          }
          o.withRetry(retry(config));
          o.withReconciliationMaxInterval(config.maxReconcileInterval());
          tuning.accept(o);
        });
    readiness = new Readiness(new Readiness.Health() {
      @Override
      public boolean started() {
        return operator.getRuntimeInfo().isStarted();
      }

      @Override
      public Map<String, String> unhealthy() {
        return unhealthyEventSources();
      }
    }, Clock.systemUTC(), Readiness.DEFAULT_GRACE);
  }

  /** Capped exponential backoff, for as long as a reconciliation fails. */
  static GenericRetry retry(OperatorConfig config) {
    return new GenericRetry()
        .withoutMaxAttempts()
        .setInitialInterval(config.retryInitial().toMillis())
        .setIntervalMultiplier(2)
        .setMaxInterval(config.retryMax().toMillis());
  }

  public void start() {
    operator.start();
  }

  /** Ready to act: started, and no informer unhealthy for longer than a watch takes to reconnect. */
  public boolean isReady() {
    return readiness.isReady();
  }

  /** Unhealthy event sources as "controller/source" with what each informer lacks, for the readiness log. */
  private Map<String, String> unhealthyEventSources() {
    Map<String, String> unhealthy = new LinkedHashMap<>();
    operator.getRuntimeInfo().unhealthyEventSources().forEach((controller, sources) -> sources.forEach((name, source) -> {
      String detail = source instanceof InformerWrappingEventSourceHealthIndicator<?> informer
          ? informer.informerHealthIndicators().entrySet().stream()
              .filter(e -> e.getValue().getStatus() != Status.HEALTHY)
              .map(e -> (Constants.WATCH_ALL_NAMESPACES.equals(e.getKey()) ? "all namespaces" : "namespace " + e.getKey())
                  + ":" + (e.getValue().isRunning() ? "" : " not running")
                  + (e.getValue().hasSynced() ? "" : " not synced")
                  + (e.getValue().isWatching() ? "" : " not watching"))
              .collect(Collectors.joining("; "))
          : String.valueOf(source.getStatus());
      unhealthy.put(controller + "/" + name, detail);
    }));
    return unhealthy;
  }

  public ModelDeploymentReconciler reconciler() {
    return reconciler;
  }

  /** The configuration the controller runs with, as java-operator-sdk resolved it. */
  @SuppressWarnings("unchecked")
  public ControllerConfiguration<ModelDeployment> controllerConfiguration() {
    var registered = (RegisteredController<ModelDeployment>)
        operator.getRegisteredController(ModelDeploymentReconciler.NAME).orElseThrow();
    return registered.getConfiguration();
  }

  @Override
  public void close() {
    operator.stop();
  }
}
