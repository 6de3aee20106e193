package io.modelship.operator.bench;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.modelship.operator.ModelshipOperator;
import io.modelship.operator.OperatorConfig;
import io.modelship.operator.analysis.DirectPodMetrics;
import io.modelship.operator.analysis.MetricsCanaryAnalysis;
import io.modelship.operator.api.CrdConstants;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.revision.PodContract;
import io.modelship.operator.testing.OperatorHarness;
import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.serve.ModelServer;
import io.modelship.server.serve.ServeHooks;
import io.modelship.server.serve.ServeOptions;
import io.modelship.server.serve.batch.BatchObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * The world the operator lives in during the rollout benchmark: fabric8's mock apiserver (the tests' harness,
 * CRD from crds/), the real operator with the production {@link MetricsCanaryAnalysis} over direct pod access and
 * the real clock, and a stand-in for the Deployment controller and kubelet that backs every pod with a real model
 * server on 127.0.0.1. A pod object carries podIP 127.0.0.1 and its server's port as the container port named
 * {@code http}, so the analysis scrapes the real server exactly as it scrapes a pod IP in a cluster.
 *
 * <p>Endpoints: the pods that back the client Service (every ready pod of every revision, which is how
 * {@code service} traffic mode splits). A pod leaves them the moment its Deployment is deleted or scaled below it
 * (recorded with a timestamp); its pod object and server are torn down afterwards.
 */
final class BenchCluster implements AutoCloseable {
  static final String NS = OperatorHarness.NAMESPACE;
  /** One row of width 4: what the stable model (MatMul with a [4,2] weight) accepts. */
  static final String GOOD_BODY = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[1,2,3,4]}]}";
  /** Width 3: passes the server's request checks (K is open) and fails inside ONNX Runtime's MatMul: a 500. */
  static final String FAILING_BODY = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,3],\"datatype\":\"FP32\",\"data\":[1,2,3]}]}";

  /** A pod of the bench: its real server, and whether it is in the Service's endpoints. */
  static final class BenchPod {
    final String name;
    final String deployment;
    final String mdep;
    final String revision;
    final ModelServer server;
    final int port;
    volatile boolean inService = true;

    BenchPod(String name, String deployment, String mdep, String revision, ModelServer server) {
      this.name = name;
      this.deployment = deployment;
      this.mdep = mdep;
      this.revision = revision;
      this.server = server;
      this.port = server.port();
    }
  }

  /** Extra start-up time for new pods of a ModelDeployment (a model download and load), by ModelDeployment name. */
  final Map<String, Duration> podStartDelay = new ConcurrentHashMap<>();

  /** When a revision's Deployment was deleted (its pods left the endpoints), by revision hash. */
  final Map<String, Long> revisionRemovedAtNanos = new ConcurrentHashMap<>();

  /** Server-side jitter: the same for every server, via the model server's before-batch seam. */
  record Jitter(double probability, int minMs, int maxMs) {
    static final Jitter NONE = new Jitter(0, 0, 0);
  }

  private final OperatorHarness harness;
  final KubernetesClient client;
  private final Path modelDir;
  private final Jitter jitter;
  private final ModelshipOperator operator;
  private final MetricsCanaryAnalysis analysis;
  private final Map<String, List<BenchPod>> podsByDeployment = new ConcurrentHashMap<>();
  private final Map<String, List<BenchPod>> endpointsByMdep = new ConcurrentHashMap<>();
  private final Map<String, MdepWatch> watches = new ConcurrentHashMap<>();
  private final ExecutorService controller = Executors.newSingleThreadExecutor(named("bench-deployment-controller"));
  private final ExecutorService stopper = Executors.newFixedThreadPool(2, named("bench-server-stopper"));
  private final AtomicInteger podCounter = new AtomicInteger();
  private final List<SharedIndexInformer<?>> informers = new CopyOnWriteArrayList<>();
  private final HttpClient warmUpClient = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  final List<Long> serverStartMillis = new CopyOnWriteArrayList<>();

  BenchCluster(Path workDir, Jitter jitter) throws Exception {
    this.harness = new OperatorHarness();
    this.client = harness.client;
    this.modelDir = workDir.resolve("model");
    this.jitter = jitter;
    OnnxModels.writeOpenWidth(modelDir);

    informers.add(client.apps().deployments().inNamespace(NS).inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Deployment d) {
        changed(d, false);
      }

      @Override
      public void onUpdate(Deployment old, Deployment d) {
        changed(d, false);
      }

      @Override
      public void onDelete(Deployment d, boolean unknown) {
        changed(d, true);
      }
    }));
    informers.add(client.resources(ModelDeployment.class).inNamespace(NS).inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(ModelDeployment m) {
        watch(m.getMetadata().getName()).observe(m.getStatus());
      }

      @Override
      public void onUpdate(ModelDeployment old, ModelDeployment m) {
        watch(m.getMetadata().getName()).observe(m.getStatus());
      }

      @Override
      public void onDelete(ModelDeployment m, boolean unknown) {}
    }));

    // The operator exactly as OperatorMain builds it, minus the health server: default settings (rollout poll 5s,
    // no reconciliation-interval tuning), the real clock, the production analysis scraping pods directly.
    analysis = new MetricsCanaryAnalysis(new DirectPodMetrics());
    operator = new ModelshipOperator(client, OperatorConfig.defaults(), new SimpleMeterRegistry(), Clock.systemUTC(),
        analysis);
    operator.start();
  }

  /** Status history of a ModelDeployment as the bench saw it, each with the moment it arrived. */
  MdepWatch watch(String mdep) {
    return watches.computeIfAbsent(mdep, MdepWatch::new);
  }

  ModelDeployment create(ModelDeployment mdep) {
    mdep.getMetadata().setNamespace(NS);
    watch(mdep.getMetadata().getName());
    return client.resource(mdep).create();
  }

  /** Changes a ModelDeployment as kubectl edit would, again on a conflict with the operator's status writes. */
  ModelDeployment edit(String name, java.util.function.Consumer<ModelDeployment> change) {
    return io.modelship.operator.testing.OnConflict.retry(() -> client.resources(ModelDeployment.class)
        .inNamespace(NS).withName(name).edit(m -> {
          change.accept(m);
          return m;
        }));
  }

  void delete(String name) {
    client.resources(ModelDeployment.class).inNamespace(NS).withName(name).delete();
    // No garbage collector in the mock apiserver: remove what the ModelDeployment owned ourselves.
    client.apps().deployments().inNamespace(NS).withLabel(CrdConstants.LABEL_DEPLOYMENT, name).delete();
  }

  /** The ready pods behind the client Service of {@code mdep}, both revisions: a snapshot. */
  List<BenchPod> endpoints(String mdep) {
    return endpointsByMdep.getOrDefault(mdep, List.of());
  }

  // ---------------------------------------------------------------- Deployment controller + kubelet

  /**
   * Runs on the informer's thread. Removing endpoints is immediate (as kube-proxy drops a terminating pod);
   * creating pods (starting real servers) is queued to the controller thread, so a slow server start never delays
   * the moment a deleted canary stops getting traffic.
   */
  private void changed(Deployment d, boolean deleted) {
    String name = d.getMetadata().getName();
    List<BenchPod> pods = podsByDeployment.get(name);
    if (pods != null) {
      int keep = deleted ? 0 : replicas(d);
      boolean dropped = false;
      synchronized (pods) {
        int inService = 0;
        for (BenchPod p : pods) {
          if (p.inService) {
            inService++;
            if (inService > keep) {
              p.inService = false;
              dropped = true;
            }
          }
        }
      }
      if (dropped) {
        rebuildEndpoints(mdepOf(d));
      }
    }
    if (deleted) {
      String revision = revisionOf(d);
      if (revision != null) {
        revisionRemovedAtNanos.putIfAbsent(revision, System.nanoTime());
      }
    }
    if (closed) {
      return;
    }
    try {
      controller.submit(() -> {
        try {
          settle(name);
        } catch (Exception e) {
          System.err.println("bench controller: " + name + ": " + e);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
  }

  /** Makes the pods of one Deployment match its spec, then reports them in its status, as the controller would. */
  private void settle(String name) throws Exception {
    Deployment d = client.apps().deployments().inNamespace(NS).withName(name).get();
    List<BenchPod> pods = podsByDeployment.computeIfAbsent(name, n -> new ArrayList<>());
    if (d == null) {
      tearDown(pods, p -> true);
      podsByDeployment.remove(name);
      return;
    }
    String mdep = mdepOf(d);
    int desired = replicas(d);
    synchronized (pods) {
      int inService = 0;
      for (BenchPod p : pods) {
        if (p.inService && ++inService > desired) {
          p.inService = false;
        }
      }
    }
    rebuildEndpoints(mdep);
    tearDown(pods, p -> !p.inService);
    while (pods.size() < desired) {
      Deployment latest = client.apps().deployments().inNamespace(NS).withName(name).get();
      if (latest == null || replicas(latest) <= pods.size()) {
        break;
      }
      BenchPod pod = startPod(latest);
      synchronized (pods) {
        pods.add(pod);
      }
      rebuildEndpoints(mdep);
      reportStatus(name, pods.size());
    }
    reportStatus(name, pods.size());
  }

  private BenchPod startPod(Deployment d) throws Exception {
    long started = System.nanoTime();
    String mdep = mdepOf(d);
    Duration delay = podStartDelay.get(mdep);
    if (delay != null) {
      Thread.sleep(delay.toMillis());
    }
    String revision = revisionOf(d);
    String podName = d.getMetadata().getName() + "-" + podCounter.incrementAndGet();
    BatchObserver observer = jitter.probability() <= 0 ? BatchObserver.NONE : (requests, rows) -> {
      ThreadLocalRandom random = ThreadLocalRandom.current();
      if (random.nextDouble() < jitter.probability()) {
        try {
          Thread.sleep(random.nextInt(jitter.minMs(), jitter.maxMs() + 1));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    };
    // Warm-up by the server itself is off because the open-width model has no input example it could make up;
    // the bench warms each server over HTTP below before the pod counts as ready, as the pod contract asks.
    ModelServer server = ModelServer.start(
        ServeOptions.defaults(modelDir, 0).withListen("127.0.0.1", 0).withModel(mdep, revision)
            .withWarmupIterations(0).withWarmupHttpRequests(0).withDrainDelay(Duration.ZERO),
        new ServeHooks(i -> {}, observer));
    server.whenReady().get(60, TimeUnit.SECONDS);
    warmUp(server.port(), mdep, 200);
    Pod pod = new PodBuilder()
        .withNewMetadata().withName(podName).withNamespace(NS)
        .withLabels(d.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
        .withNewSpec()
        .addNewContainer().withName(PodContract.SERVE_CONTAINER).withImage("bench")
        .addNewPort().withName(PodContract.HTTP_PORT_NAME).withContainerPort(server.port()).endPort()
        .endContainer()
        .endSpec()
        .withNewStatus().withPhase("Running").withPodIP("127.0.0.1")
        .addNewCondition().withType("Ready").withStatus("True").endCondition()
        .addNewContainerStatus().withName(PodContract.SERVE_CONTAINER).withReady(true).withRestartCount(0)
        .endContainerStatus()
        .endStatus()
        .build();
    client.pods().inNamespace(NS).resource(pod).create();
    serverStartMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    return new BenchPod(podName, d.getMetadata().getName(), mdep, revision, server);
  }

  private void warmUp(int port, String model, int requests) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + port + "/v2/models/" + model + "/infer");
    for (int i = 0; i < requests; i++) {
      HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(GOOD_BODY)).build();
      HttpResponse<Void> response = warmUpClient.send(request, HttpResponse.BodyHandlers.discarding());
      if (response.statusCode() != 200) {
        throw new IllegalStateException("warm-up request answered " + response.statusCode());
      }
    }
  }

  private void tearDown(List<BenchPod> pods, Predicate<BenchPod> which) {
    List<BenchPod> gone = new ArrayList<>();
    synchronized (pods) {
      pods.removeIf(p -> {
        if (which.test(p)) {
          p.inService = false;
          gone.add(p);
          return true;
        }
        return false;
      });
    }
    for (BenchPod p : gone) {
      try {
        client.pods().inNamespace(NS).withName(p.name).delete();
      } catch (RuntimeException e) {
        // already gone
      }
      stopServer(p);
    }
  }

  private void stopServer(BenchPod p) {
    try {
      stopper.submit(p.server::shutdown);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      p.server.shutdown(); // the bench is closing
    }
  }

  private void reportStatus(String name, int ready) {
    for (int attempt = 0; attempt < 5; attempt++) {
      try {
        Deployment d = client.apps().deployments().inNamespace(NS).withName(name).get();
        if (d == null) {
          return;
        }
        var s = d.getStatus();
        Long generation = d.getMetadata().getGeneration();
        if (s != null && Integer.valueOf(ready).equals(s.getReadyReplicas()) && Integer.valueOf(ready).equals(s.getReplicas())
            && generation != null && generation.equals(s.getObservedGeneration())) {
          return;
        }
        d.setStatus(new DeploymentStatusBuilder().withReplicas(ready).withObservedGeneration(generation)
            .withUpdatedReplicas(ready).withReadyReplicas(ready).withAvailableReplicas(ready).build());
        client.apps().deployments().inNamespace(NS).resource(d).updateStatus();
        return;
      } catch (RuntimeException e) {
        // a conflicting write: read again
      }
    }
  }

  private void rebuildEndpoints(String mdep) {
    List<BenchPod> all = new ArrayList<>();
    for (List<BenchPod> pods : podsByDeployment.values()) {
      synchronized (pods) {
        for (BenchPod p : pods) {
          if (p.inService && p.mdep.equals(mdep)) {
            all.add(p);
          }
        }
      }
    }
    endpointsByMdep.put(mdep, List.copyOf(all));
  }

  private static int replicas(Deployment d) {
    return d.getSpec() == null || d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
  }

  private static String revisionOf(Deployment d) {
    return d.getMetadata().getLabels() == null ? null : d.getMetadata().getLabels().get(CrdConstants.LABEL_REVISION);
  }

  private static String mdepOf(Deployment d) {
    return d.getMetadata().getLabels().get(CrdConstants.LABEL_DEPLOYMENT);
  }

  private static java.util.concurrent.ThreadFactory named(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  private volatile boolean closed;

  @Override
  public void close() {
    closed = true;
    try {
      operator.close();
    } catch (RuntimeException e) {
      System.err.println("stopping the operator: " + e);
    }
    analysis.close();
    informers.forEach(SharedIndexInformer::close);
    controller.shutdownNow();
    for (List<BenchPod> pods : podsByDeployment.values()) {
      synchronized (pods) {
        pods.forEach(p -> stopper.submit(p.server::shutdown));
      }
    }
    stopper.shutdown();
    try {
      stopper.awaitTermination(20, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    harness.close();
  }

  // ---------------------------------------------------------------- status as the bench sees it

  /** One status seen by the bench's watch, stamped with System.nanoTime() on arrival. */
  record Seen(long nanos, ModelDeploymentStatus status) {}

  static final class MdepWatch {
    final String name;
    private final List<Seen> seen = new CopyOnWriteArrayList<>();

    MdepWatch(String name) {
      this.name = name;
    }

    void observe(ModelDeploymentStatus status) {
      if (status != null) {
        seen.add(new Seen(System.nanoTime(), status));
      }
    }

    Optional<Seen> latest() {
      return seen.isEmpty() ? Optional.empty() : Optional.of(seen.get(seen.size() - 1));
    }

    /** Every status seen at or after {@code sinceNanos}. */
    List<Seen> since(long sinceNanos) {
      return seen.stream().filter(s -> s.nanos() >= sinceNanos).toList();
    }

    /** The first status at or after {@code sinceNanos} that matches, waiting up to {@code timeout} for it. */
    Optional<Seen> await(long sinceNanos, Predicate<ModelDeploymentStatus> condition, Duration timeout)
        throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        for (Seen s : seen) {
          if (s.nanos() >= sinceNanos && condition.test(s.status())) {
            return Optional.of(s);
          }
        }
        if (System.nanoTime() > deadline) {
          return Optional.empty();
        }
        Thread.sleep(20);
      }
    }
  }
}
