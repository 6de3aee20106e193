package io.modelship.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.fabric8.kubernetes.client.CustomResource;
import io.modelship.operator.analysis.MetricsCanaryAnalysis;
import io.modelship.operator.api.ModelDeployment;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The operator process: check the cluster is there, start the controller and the health server, stop cleanly. */
public final class OperatorMain {
  private static final Logger log = LoggerFactory.getLogger(OperatorMain.class);

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
              POD_NAMESPACE                 namespace of the leader-election Lease""".formatted(OperatorConfig.DEFAULT_MODEL_SERVER_IMAGE));
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
    var operator = new ModelshipOperator(client, config, registry, Clock.systemUTC(), analysis);
    var stopped = new CountDownLatch(1);
    try (var health = new HealthServer(config.healthPort(), () -> true, operator::isReady, registry)) {
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        log.info("shutting down: finishing reconciliations in flight");
        operator.close();
        analysis.close();
        client.close();
        stopped.countDown();
      }, "shutdown"));
      operator.start();
      log.info("modelship operator started; health and metrics on :{}", health.port());
      stopped.await();
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
