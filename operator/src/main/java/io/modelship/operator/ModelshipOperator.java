package io.modelship.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.modelship.operator.analysis.CanaryAnalysis;
import io.modelship.operator.metrics.RolloutMetrics;
import io.modelship.operator.reconciler.ModelDeploymentReconciler;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Wires the reconciler into a java-operator-sdk Operator. The process entry point and the scenario tests both
 * go through here, so what the tests run is what a cluster runs.
 */
public final class ModelshipOperator implements AutoCloseable {
  /** The leader-election Lease; the Helm chart's Role names it too. */
  public static final String LEASE_NAME = "modelship-operator";

  private final Operator operator;
  private final ModelDeploymentReconciler reconciler;

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
          tuning.accept(o);
        });
  }

  public void start() {
    operator.start();
  }

  /** Ready to act: started, every informer healthy and synced. */
  public boolean isReady() {
    var info = operator.getRuntimeInfo();
    return info.isStarted() && info.allEventSourcesAreHealthy();
  }

  public ModelDeploymentReconciler reconciler() {
    return reconciler;
  }

  @Override
  public void close() {
    operator.stop();
  }
}
