package io.modelship.operator;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
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
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires the reconciler into a java-operator-sdk Operator. The process entry point and the scenario tests both
 * go through here, so what the tests run is what a cluster runs.
 *
 * <p>Under leader election it never ends the process itself (java-operator-sdk's default is a System.exit when
 * leadership ends, which also fires during a normal stop and hangs a JVM already shutting down): a leadership lost
 * while running completes {@link #leadershipLost()}, and whoever owns the process must end it at once.
 */
public final class ModelshipOperator implements AutoCloseable {
  /** The leader-election Lease; the Helm chart's Role names it too. */
  public static final String LEASE_NAME = "modelship-operator";
  private static final Logger log = LoggerFactory.getLogger(ModelshipOperator.class);

  private final Operator operator;
  private final ModelDeploymentReconciler reconciler;
  private final KubernetesClient client;
  private final OperatorConfig config;
  private final Readiness readiness;
  private final CompletableFuture<Void> leadershipLost = new CompletableFuture<>();
  private volatile boolean leading;
  private volatile boolean stopping;

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
    this.client = client;
    this.config = config;
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
                o.withLeaderElectionConfiguration(leaderElection(config));
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
          o.withItemStore(io.modelship.operator.reconciler.LeanCache.store());
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

  private LeaderElectionConfiguration leaderElection(OperatorConfig config) {
    var callbacks = new LeaderCallbacks(
        () -> {
          leading = true;
          log.info("leading as {}: this replica reconciles", config.leaseIdentity());
        },
        () -> {
          leading = false;
          // Called as well when we stop on purpose (the election is cancelled): not a loss then.
          if (!stopping) {
            log.error("lost the Lease {}/{} as {}", config.leaseNamespace(), LEASE_NAME, config.leaseIdentity());
            leadershipLost.complete(null);
          }
        },
        leader -> {});
    return new LeaderElectionConfiguration(
        LEASE_NAME,
        config.leaseNamespace(),
        LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
        LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE,
        LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE,
        config.leaseIdentity(),
        callbacks,
        // Not System.exit on stop-leading: it fires on every stop too, and hangs a JVM already exiting.
        false);
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

  /** Completes when this replica loses the leader Lease while running: the process must end, at once. */
  public CompletableFuture<Void> leadershipLost() {
    return leadershipLost;
  }

  /** Whether this replica holds the leader Lease (always false without leader election). */
  public boolean isLeading() {
    return leading;
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

  /**
   * Stops reconciling (in-flight reconciliations get their termination timeout), then gives up the Lease if we
   * held it, so a standby takes over in its retry period instead of waiting for the Lease to expire.
   */
  @Override
  public void close() {
    stopping = true;
    boolean wasLeading = leading;
    operator.stop();
    if (config.leaderElection() && wasLeading) {
      releaseLease();
    }
  }

  private void releaseLease() {
    try {
      Lease lease = client.resources(Lease.class).inNamespace(config.leaseNamespace()).withName(LEASE_NAME).get();
      if (lease == null || lease.getSpec() == null || !config.leaseIdentity().equals(lease.getSpec().getHolderIdentity())) {
        return;
      }
      // resourceVersion makes this a compare-and-swap: a Lease someone else took meanwhile is left alone.
      String patch = "{\"metadata\":{\"resourceVersion\":\"" + lease.getMetadata().getResourceVersion()
          + "\"},\"spec\":{\"holderIdentity\":null}}";
      client.resources(Lease.class).inNamespace(config.leaseNamespace()).withName(LEASE_NAME)
          .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
      log.info("gave up the Lease {}/{}", config.leaseNamespace(), LEASE_NAME);
    } catch (KubernetesClientException e) {
      // It expires by itself; a standby only waits longer.
      log.warn("could not give up the Lease {}/{}: {}", config.leaseNamespace(), LEASE_NAME, e.getMessage());
    }
  }
}
