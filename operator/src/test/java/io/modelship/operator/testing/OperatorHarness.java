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
import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.api.status.RevisionStatus;
import io.fabric8.kubernetes.api.model.Condition;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
  public final TestClock clock = new TestClock(Instant.parse("2026-11-24T10:00:00Z"));
  public final ScriptedAnalysis analysis = new ScriptedAnalysis();
  public final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final Set<String> autoReady = ConcurrentHashMap.newKeySet();
  private ModelshipOperator operator;

  public OperatorHarness() throws Exception {
    this(true);
  }

  /** @param gatewayApi whether the cluster serves Gateway API's HTTPRoute kind */
  public OperatorHarness(boolean gatewayApi) throws Exception {
    server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(), new HashMap<>(), dispatcher, false);
    server.init();
    client = server.createClient();
    try (InputStream crd = Files.newInputStream(committedCrd())) {
      client.resource(Serialization.unmarshal(crd, CustomResourceDefinition.class)).create();
    }
    if (gatewayApi) {
      client.resource(new io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder()
          .withNewMetadata().withName("httproutes.gateway.networking.k8s.io").endMetadata()
          .withNewSpec().withGroup("gateway.networking.k8s.io").withScope("Namespaced")
          .withNewNames().withKind("HTTPRoute").withPlural("httproutes").withSingular("httproute").endNames()
          .addNewVersion().withName("v1").withServed(true).withStorage(true)
          .withNewSchema().withNewOpenAPIV3Schema().withType("object").withXKubernetesPreserveUnknownFields(true)
          .endOpenAPIV3Schema().endSchema().endVersion()
          .endSpec().build()).create();
    }
    // Plays the Deployment controller for Deployments a test marked: every desired pod becomes ready.
    client.apps().deployments().inNamespace(NAMESPACE).inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Deployment d) {
        settle(d);
      }

      @Override
      public void onUpdate(Deployment old, Deployment d) {
        settle(d);
      }

      @Override
      public void onDelete(Deployment d, boolean unknown) {}
    });
  }

  private void settle(Deployment d) {
    if (!autoReady.contains(d.getMetadata().getName())) {
      return;
    }
    var status = d.getStatus();
    Integer replicas = d.getSpec().getReplicas();
    if (status != null && replicas.equals(status.getReadyReplicas()) && replicas.equals(status.getReplicas())
        && d.getMetadata().getGeneration().equals(status.getObservedGeneration())) {
      return;
    }
    try {
      markReady(d.getMetadata().getName());
    } catch (RuntimeException e) {
      // deleted meanwhile, or a conflicting write: the next event settles it
    }
  }

  /** From now on, every pod of this Deployment is ready as soon as it is asked for, at any replica count. */
  public void autoReady(String deploymentName) {
    autoReady.add(deploymentName);
    deployment(deploymentName).ifPresent(this::settle);
  }

  /** From now on, pods of this Deployment stay as they are: the test plays a slow or stuck scale-up. */
  public void stopAutoReady(String deploymentName) {
    autoReady.remove(deploymentName);
  }

  /** The revision Deployment of a ModelDeployment other than {@code except}, once it exists. */
  public String awaitOtherRevision(String mdepName, String except) {
    // The name comes from the same list that showed it: listing again could miss it, as a pass may have removed it.
    return await().atMost(Duration.ofSeconds(20)).until(() -> deployments().stream()
        .map(d -> d.getMetadata().getName())
        .filter(n -> n.startsWith(mdepName + "-") && !n.equals(except)).findFirst(), java.util.Optional::isPresent)
        .orElseThrow();
  }

  public static Path committedCrd() {
    return Path.of(System.getProperty("modelship.crd.committed", "../crds/modeldeployments.modelship.io-v1.yml"));
  }

  public OperatorHarness start() {
    return start(config -> config);
  }

  /** Starts the operator with the test settings, changed by {@code tune} (e.g. the model servers' port). */
  public OperatorHarness start(java.util.function.UnaryOperator<OperatorConfig> tune) {
    this.tune = tune;
    operator = new ModelshipOperator(client, tune.apply(OperatorConfig.defaults().withPolling(Duration.ofMillis(200))),
        metrics, clock, analysis, o -> o.withReconciliationMaxInterval(MAX_RECONCILE_INTERVAL));
    operator.start();
    return this;
  }

  private java.util.function.UnaryOperator<OperatorConfig> tune = config -> config;

  /** Stops this operator and starts a fresh one on the same apiserver, as a restarted pod would. */
  public OperatorHarness restart() {
    operator.close();
    return start(tune);
  }

  public ModelshipOperator operator() {
    return operator;
  }

  public ModelDeployment create(ModelDeployment mdep) {
    mdep.getMetadata().setNamespace(NAMESPACE);
    return client.resource(mdep).create();
  }

  /** Changes a ModelDeployment as kubectl edit would: a patch, so it never races the operator's status writes. */
  public ModelDeployment edit(String name, java.util.function.Consumer<ModelDeployment> change) {
    return OnConflict.retry(() -> client.resources(ModelDeployment.class).inNamespace(NAMESPACE).withName(name)
        .edit(m -> {
          change.accept(m);
          return m;
        }));
  }

  public ModelDeployment get(String name) {
    return client.resources(ModelDeployment.class).inNamespace(NAMESPACE).withName(name).get();
  }

  /*
   * The accessors below are for use inside await(): Awaitility retries only on AssertionError, so state that
   * does not exist yet (no status, no canary) fails an assertion instead of throwing NullPointerException.
   */

  /** The ModelDeployment's status; an AssertionError until the operator has written one. */
  public ModelDeploymentStatus status(String name) {
    ModelDeployment mdep = get(name);
    if (mdep == null) {
      throw new AssertionError("ModelDeployment " + name + " does not exist");
    }
    if (mdep.getStatus() == null) {
      throw new AssertionError("ModelDeployment " + name + " has no status yet");
    }
    return mdep.getStatus();
  }

  /** The phase, or null while there is no status. */
  public Phase phase(String name) {
    ModelDeployment mdep = get(name);
    return mdep == null || mdep.getStatus() == null ? null : mdep.getStatus().getPhase();
  }

  /** The canary's status; an AssertionError while there is none. */
  public CanaryStatus canary(String name) {
    ModelDeploymentStatus status = status(name);
    CanaryStatus canary = status.getCanary();
    if (canary == null) {
      throw new AssertionError(name + " has no canary in its status (" + summary(status) + ")");
    }
    return canary;
  }

  /** The stable revision's status; an AssertionError while there is none. */
  public RevisionStatus stable(String name) {
    ModelDeploymentStatus status = status(name);
    RevisionStatus stable = status.getStable();
    if (stable == null) {
      throw new AssertionError(name + " has no stable revision in its status (" + summary(status) + ")");
    }
    return stable;
  }

  /** The source tracking's status; an AssertionError while there is none. */
  public io.modelship.operator.api.status.TrackingStatus tracking(String name) {
    var tracking = status(name).getTracking();
    if (tracking == null) {
      throw new AssertionError(name + " has no status.tracking yet");
    }
    return tracking;
  }

  /** Phase and the latest rollout's outcome, so that a failed wait says where the rollout went. */
  private static String summary(ModelDeploymentStatus status) {
    var history = status.getHistory();
    return "phase " + status.getPhase() + (history == null || history.isEmpty() ? ""
        : ", last rollout " + history.get(0).getOutcome() + ": " + history.get(0).getReason());
  }

  /** A condition of the status by type; an AssertionError while it is missing. */
  public static Condition condition(ModelDeploymentStatus status, String type) {
    return status.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst()
        .orElseThrow(() -> new AssertionError("no " + type + " condition in " + status.getConditions()));
  }

  public List<Deployment> deployments() {
    return client.apps().deployments().inNamespace(NAMESPACE).list().getItems();
  }

  public Optional<Deployment> deployment(String name) {
    return Optional.ofNullable(client.apps().deployments().inNamespace(NAMESPACE).withName(name).get());
  }

  /** The Deployment's desired replicas, or -1 while it does not exist. */
  public int replicas(String deploymentName) {
    return deployment(deploymentName).map(d -> d.getSpec().getReplicas()).orElse(-1);
  }

  /** Plays the Deployment controller: all desired pods of the Deployment report ready. */
  public void markReady(String deploymentName) {
    Deployment d = deployment(deploymentName).orElseThrow();
    int replicas = d.getSpec().getReplicas();
    d.setStatus(new DeploymentStatusBuilder()
        .withReplicas(replicas)
        .withObservedGeneration(d.getMetadata().getGeneration())
        .withUpdatedReplicas(replicas)
        .withReadyReplicas(replicas)
        .withAvailableReplicas(replicas)
        .build());
    client.apps().deployments().inNamespace(NAMESPACE).resource(d).updateStatus();
  }

  /** Waits until the operator has finished {@code n} more reconciliations than it had when called. */
  /** A pod of the Deployment whose fetch step ended with this exit code and termination message, as a kubelet reports it. */
  public void fetchedPod(Deployment d, String podName, int fetchExitCode, String terminationMessage) {
    var pod = new io.fabric8.kubernetes.api.model.PodBuilder()
        .withNewMetadata().withName(podName).withNamespace(NAMESPACE)
        .withLabels(d.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
        .withSpec(d.getSpec().getTemplate().getSpec())
        .withNewStatus()
        .withPhase(fetchExitCode == 0 ? "Running" : "Pending")
        .withInitContainerStatuses(new io.fabric8.kubernetes.api.model.ContainerStatusBuilder()
            .withName("fetch").withImage("model-server").withImageID("").withReady(fetchExitCode == 0).withRestartCount(0)
            .withNewState().withNewTerminated().withExitCode(fetchExitCode).withMessage(terminationMessage)
            .withReason(fetchExitCode == 0 ? "Completed" : "Error").endTerminated().endState()
            .build())
        .endStatus()
        .build();
    client.resource(pod).create();
  }

  /** The Events recorded on one ModelDeployment, oldest first as the API lists them. */
  public List<io.fabric8.kubernetes.api.model.Event> events(String name) {
    return client.v1().events().inNamespace(NAMESPACE).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
  }

  public List<String> reasons(String name) {
    return events(name).stream().map(io.fabric8.kubernetes.api.model.Event::getReason).toList();
  }

  public List<String> warnings(String name) {
    return events(name).stream().filter(e -> "Warning".equals(e.getType()))
        .map(io.fabric8.kubernetes.api.model.Event::getReason).toList();
  }

  /**
   * Lets a reached step's pause pass: waits until the operator has seen the step reached (or the rollout is over),
   * then moves the clock 31 s, past the 30 s pauses the scenarios use.
   */
  public void passStep(String name) {
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      var canary = status(name).getCanary();
      org.assertj.core.api.Assertions.assertThat(canary == null || canary.getStepReachedAt() != null)
          .as("the step is reached").isTrue();
    });
    clock.advance(Duration.ofSeconds(31));
  }

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
