package io.modelship.operator;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.modelship.operator.analysis.MetricsCanaryAnalysis;
import io.modelship.operator.api.ModelDeployment;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The operator process: check the cluster is there, start the controller and the health server, stop cleanly. */
public final class OperatorMain {
  private static final Logger log = LoggerFactory.getLogger(OperatorMain.class);
  private static final String LOST_LEASE = "lost-lease";

  private OperatorMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println("""
          usage: java -jar operator.jar
            Runs the Modelship operator against the current kube context (KUBECONFIG, ~/.kube/config or the
            in-cluster service account). Settings come from the environment:
              MODELSHIP_MODEL_SERVER_IMAGE  default model-server image (%s)
              MODELSHIP_WATCH_NAMESPACES    comma-separated namespaces to watch (default: all)
              MODELSHIP_HEALTH_PORT         port of /healthz, /readyz and /metrics (default 8081)
              MODELSHIP_LEADER_ELECTION     true to run several replicas with one active (default false)
              POD_NAMESPACE                 namespace of the leader-election Lease, and of this operator's pods
              MODELSHIP_OPERATOR_POD_LABELS k=v,k=v: this operator's pod labels, let in by the NetworkPolicies
              HOSTNAME                      this replica's name in the Lease (in a pod: the pod name)
              MODELSHIP_LOG_FORMAT          json for one JSON object per line (default text)"""
          .formatted(OperatorConfig.DEFAULT_MODEL_SERVER_IMAGE));
      return;
    }
    OperatorConfig config;
    try {
      config = OperatorConfig.fromEnvironment(System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("modelship-operator: " + e.getMessage());
      System.exit(2);
      return;
    }
    KubernetesClient client = new KubernetesClientBuilder().build();
    String reachable = checkCluster(client);
    if (reachable != null) {
      System.err.println(reachable);
      client.close();
      System.exit(1);
    }

    var registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    MetricsCanaryAnalysis analysis;
    try {
      analysis = MetricsCanaryAnalysis.forEnvironment(client);
    } catch (IllegalArgumentException e) {
      System.err.println("modelship-operator: " + e.getMessage());
      System.exit(2);
      return;
    }
    // Exits here rather than returning: the client's and java-operator-sdk's threads must not keep the JVM up.
    System.exit(run(client, config, registry, analysis));
  }

  /**
   * Runs the operator until SIGTERM (or Ctrl-C), then stops it and returns the exit code: 0 after a clean stop,
   * 1 when it could not start or lost the leader Lease.
   *
   * <p>Why not stop in a shutdown hook: a JVM that exits on a signal it did not handle exits with 128 + signal
   * (143), which reads as a crash; and a System.exit called while the hooks run blocks for ever (java-operator-sdk
   * calls one when leadership ends, which a stop ends too). So the signal only asks, this thread stops the
   * operator and returns; the hook stays for every other way the JVM may go down, and does nothing once this
   * thread has stopped.
   */
  static int run(KubernetesClient client, OperatorConfig config, PrometheusMeterRegistry registry,
      MetricsCanaryAnalysis analysis) throws Exception {
    CompletableFuture<String> stopRequested = new CompletableFuture<>();
    handle("TERM", stopRequested);
    handle("INT", stopRequested);
    var operator = new ModelshipOperator(client, config, registry, Clock.systemUTC(), analysis);
    var health = new HealthServer(config.healthPort(), () -> true, operator::isReady, registry);
    var stopped = new AtomicBoolean();
    Runnable stop = () -> {
      if (stopped.compareAndSet(false, true)) {
        operator.close();
        analysis.close();
        client.close();
        health.close();
      }
    };
    Runtime.getRuntime().addShutdownHook(new Thread(stop, "stop-on-exit"));
    try {
      operator.start();
    } catch (RuntimeException e) {
      log.error("cannot start: {}", rootMessage(e), e);
      stop.run();
      return 1;
    }
    log.info("modelship operator started{}; health and metrics on :{}",
        config.leaderElection() ? " as " + config.leaseIdentity() + ", reconciling once it holds the Lease" : "",
        health.port());
    Object reason = CompletableFuture.anyOf(stopRequested, operator.leadershipLost().thenApply(v -> LOST_LEASE)).get();
    if (LOST_LEASE.equals(reason)) {
      // Another replica may be reconciling already: end now rather than finish what is in flight. Marking the
      // process stopped keeps the shutdown hook from doing that slow, graceful stop.
      stopped.set(true);
      log.error("exiting: another replica may hold the Lease now, and two must never reconcile at once");
      return 1;
    }
    log.info("SIG{} received: finishing reconciliations in flight", reason);
    stop.run();
    log.info("stopped");
    return 0;
  }

  /** Turns {@code signal} into a stop request; without signal handling (-Xrs) the shutdown hook stops. */
  @SuppressWarnings("restriction")
  private static void handle(String signal, CompletableFuture<String> stopRequested) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal(signal), received -> stopRequested.complete(signal));
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      log.debug("cannot handle SIG{}: {}", signal, e.getMessage());
    }
  }

  /**
   * One clear line instead of a stack trace when there is no cluster, or when the CRD is not installed.
   *
   * @return null when the cluster is usable, else the message to print
   */
  static String checkCluster(KubernetesClient client) {
    String where = String.valueOf(client.getConfiguration().getMasterUrl());
    try {
      client.getKubernetesVersion();
    } catch (Exception e) {
      return "modelship-operator: no Kubernetes API server reachable at " + where
          + " (" + rootMessage(e) + "). Point KUBECONFIG at a cluster, or run the operator inside one.";
    }
    try {
      if (client.apiextensions().v1().customResourceDefinitions()
          .withName(CustomResource.getCRDName(ModelDeployment.class))
          .get() == null) {
        return "modelship-operator: the ModelDeployment CRD is not installed in " + where
            + ". Install it with: kubectl apply -f crds/modeldeployments.modelship.io-v1.yml";
      }
    } catch (Exception e) {
      // Without permission to read CRDs we cannot tell; the informers will report it if the CRD is missing.
      log.debug("could not check for the CRD: {}", rootMessage(e));
    }
    return null;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getClass().getSimpleName() + (t.getMessage() != null ? ": " + t.getMessage() : "");
  }
}
