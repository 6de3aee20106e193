package io.modelship.operator.testing;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.modelship.operator.ModelshipOperator;
import io.modelship.operator.OperatorConfig;
import io.modelship.operator.api.ModelDeployment;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;

/**
 * A whole operator against fabric8's mock apiserver in CRUD mode, with the CRD from crds/ installed. Tests
 * play the part of the kubelet and the Deployment controller by writing Deployment and pod status by hand.
 */
public final class OperatorHarness implements AutoCloseable {
  public static final String NAMESPACE = "ml";
  /** Short, so "the next reconcile" arrives quickly and tests can wait for it instead of sleeping. */
  public static final Duration MAX_RECONCILE_INTERVAL = Duration.ofMillis(300);

  public final ApplyAwareCrudDispatcher dispatcher = new ApplyAwareCrudDispatcher();
  public final KubernetesMockServer server;
  public final KubernetesClient client;
  private ModelshipOperator operator;

  public OperatorHarness() throws Exception {
    server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(), new HashMap<>(), dispatcher, false);
    server.init();
    client = server.createClient();
    try (InputStream crd = Files.newInputStream(committedCrd())) {
      client.resource(Serialization.unmarshal(crd, CustomResourceDefinition.class)).create();
    }
  }

  public static Path committedCrd() {
    return Path.of(System.getProperty("modelship.crd.committed", "../crds/modeldeployments.modelship.io-v1.yml"));
  }

  public OperatorHarness start() {
    operator = new ModelshipOperator(client, OperatorConfig.defaults(), new SimpleMeterRegistry(), Clock.systemUTC(),
        o -> o.withReconciliationMaxInterval(MAX_RECONCILE_INTERVAL));
    operator.start();
    return this;
  }

  /** Stops this operator and starts a fresh one on the same apiserver, as a restarted pod would. */
  public OperatorHarness restart() {
    operator.close();
    return start();
  }

  public ModelshipOperator operator() {
    return operator;
  }

  public ModelDeployment create(ModelDeployment mdep) {
    mdep.getMetadata().setNamespace(NAMESPACE);
    return client.resource(mdep).create();
  }

  public ModelDeployment get(String name) {
    return client.resources(ModelDeployment.class).inNamespace(NAMESPACE).withName(name).get();
  }

  public List<Deployment> deployments() {
    return client.apps().deployments().inNamespace(NAMESPACE).list().getItems();
  }

  public Optional<Deployment> deployment(String name) {
    return Optional.ofNullable(client.apps().deployments().inNamespace(NAMESPACE).withName(name).get());
  }

  /** Plays the Deployment controller: all desired pods of the Deployment report ready. */
  public void markReady(String deploymentName) {
    Deployment d = deployment(deploymentName).orElseThrow();
    int replicas = d.getSpec().getReplicas();
    d.setStatus(new DeploymentStatusBuilder()
        .withObservedGeneration(d.getMetadata().getGeneration())
        .withReplicas(replicas)
        .withUpdatedReplicas(replicas)
        .withReadyReplicas(replicas)
        .withAvailableReplicas(replicas)
        .build());
    client.apps().deployments().inNamespace(NAMESPACE).resource(d).updateStatus();
  }

  /** Waits until the operator has finished {@code n} more reconciliations than it had when called. */
  public void awaitReconciliations(int n) {
    long target = operator.reconciler().reconciliations() + n;
    await().atMost(Duration.ofSeconds(20)).until(() -> operator.reconciler().reconciliations() >= target);
  }

  @Override
  public void close() {
    if (operator != null) {
      operator.close();
    }
    client.close();
    server.destroy();
  }
}
