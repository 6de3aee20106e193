package io.modelship.e2e;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The one-node Kubernetes the end-to-end tests run on, made by cluster/up.sh, with Modelship installed in it as a
 * user would: the images built by Jib and pushed to the cluster's registry, the chart installed with helm. Started
 * once per test run, torn down by cluster/down.sh when the run ends (also when it fails, and on Ctrl-C), which
 * leaves the host as it was.
 *
 * <p>It needs Linux and root (it runs kubelet, containerd and iptables); elsewhere every end-to-end test is skipped
 * with the reason printed.
 */
public final class RealCluster implements ExtensionContext.Store.CloseableResource, AutoCloseable {
  public static final String OPERATOR_NAMESPACE = "modelship";
  private static final Duration UP_WITHIN = Duration.ofMinutes(45);
  private static RealCluster instance;
  private static String unavailable;
  /** What this cluster serves, in its progress lines: the test tier, or the demo (the README's run command). */
  private static volatile String label = "e2e";

  final Path root = Path.of(System.getProperty("modelship.root", "..")).toAbsolutePath().normalize();
  final Map<String, String> env;
  final KubernetesClient client;
  final String nodeIp;
  final String version = System.getProperty("modelship.version", "0.1.0-SNAPSHOT");
  /**
   * A tag of this run's own: nodes keep an image they already have under a tag (pull policy IfNotPresent), so a
   * rebuilt image pushed under the same tag would never reach a pod.
   */
  final String imageTag = version + "-e2e" + System.currentTimeMillis() / 1000;
  private final Thread teardownOnExit = new Thread(this::down, "cluster-down-on-exit");
  /** Left up when this process ends (MODELSHIP_E2E_KEEP=1, or the demo's --keep), for a look with kubectl. */
  private final boolean keep;
  private boolean closed;
  private Path userBin;

  /** JUnit: every end-to-end test class is extended with this; the first one starts the cluster. */
  public static final class Extension implements BeforeAllCallback {
    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
      Optional<String> why = unavailableReason();
      if (why.isPresent()) {
        System.out.println("SKIPPED end-to-end tests (" + context.getDisplayName() + "): " + why.get());
        Assumptions.abort(why.get());
      }
      context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
          .getOrComputeIfAbsent(RealCluster.class, key -> start(), RealCluster.class);
    }
  }

  public static synchronized RealCluster get() {
    if (instance == null) {
      throw new IllegalStateException("the cluster is started by RealCluster.Extension");
    }
    return instance;
  }

  /** Why this machine cannot run the end-to-end tier, or empty when it can. */
  static synchronized Optional<String> unavailableReason() {
    if (unavailable != null) {
      return unavailable.isEmpty() ? Optional.empty() : Optional.of(unavailable);
    }
    String why = "";
    if ("skip".equals(System.getenv("MODELSHIP_E2E"))) {
      why = "MODELSHIP_E2E=skip";
    } else if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
      why = "the one-node cluster runs on Linux only (this is " + System.getProperty("os.name") + ")";
    } else if (!"root".equals(System.getProperty("user.name"))) {
      why = "the one-node cluster needs root (kubelet, containerd, iptables); this is " + System.getProperty("user.name");
    } else if (!onPath("go")) {
      why = "go is not on PATH; the cluster's Kubernetes binaries are built from Go modules";
    } else if (!onPath("apt-get")) {
      why = "apt-get is not on PATH; containerd, runc and the registry come from Debian packages";
    }
    unavailable = why;
    return why.isEmpty() ? Optional.empty() : Optional.of(why);
  }

  private static boolean onPath(String command) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  /**
   * The cluster for the demo (the README's run command), started here rather than by JUnit; with {@code keep} it
   * stays up when the demo ends. Check {@link #unavailableReason()} first.
   */
  static synchronized RealCluster startForDemo(boolean keep) throws IOException, InterruptedException {
    label = "demo";
    if (instance == null) {
      instance = new RealCluster(keep);
    }
    return instance;
  }

  private static synchronized RealCluster start() {
    if (instance == null) {
      try {
        instance = new RealCluster("1".equals(System.getenv("MODELSHIP_E2E_KEEP")));
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("the one-node cluster did not come up: " + e.getMessage(), e);
      }
    }
    return instance;
  }

  private RealCluster(boolean keep) throws IOException, InterruptedException {
    this.keep = keep;
    Runtime.getRuntime().addShutdownHook(teardownOnExit);
    long started = System.nanoTime();
    progress("bringing up the one-node cluster (the first run builds Kubernetes from source: about 15 minutes)");
    run(UP_WITHIN, root.resolve("cluster/up.sh").toString());
    env = readEnv();
    nodeIp = env.get("MODELSHIP_NODE_IP");
    client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(Path.of(env.get("KUBECONFIG")))))
        .build();
    progress("building and pushing the images with Jib");
    buildImages();
    progress("installing the chart");
    installChart();
    progress("ready in %d s".formatted(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started)));
  }

  private Map<String, String> readEnv() throws IOException, InterruptedException {
    Map<String, String> values = new LinkedHashMap<>();
    for (String line : output(Duration.ofMinutes(1), root.resolve("cluster/env.sh").toString()).split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        values.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return values;
  }

  /** The images, built as a user builds them: Jib in the two modules, pushed to the cluster's registry. */
  private void buildImages() throws IOException, InterruptedException {
    String base = Files.readString(Path.of(env.get("MODELSHIP_JRE_DIGEST_FILE")).resolveSibling("jre.ref")).strip();
    List<String> maven = new ArrayList<>(List.of(root.resolve("mvnw").toString(), "-B", "-q", "-f",
        root.resolve("pom.xml").toString(), "-pl", "model-server,operator", "jib:build",
        "-Dimage.registry=" + env.get("MODELSHIP_REGISTRY"), "-Dimage.tag=" + imageTag,
        "-Djib.from.image=" + base, "-Djib.insecure=true",
        "-Djib.console=plain"));
    // Not -o: Jib refuses to push in offline mode; with the plugins cached Maven only checks them.
    run(Duration.ofMinutes(15), maven.toArray(String[]::new));
  }

  /** Installs (or upgrades to) the chart with the test cluster's images; {@code extra} adds helm arguments. */
  public void installChart(String... extra) {
    List<String> args = new ArrayList<>(List.of("upgrade", "--install", "modelship",
        root.resolve("helm/modelship-operator").toString(),
        "--namespace", OPERATOR_NAMESPACE, "--create-namespace", "--wait", "--timeout", "5m",
        "--set", "image.registry=" + env.get("MODELSHIP_REGISTRY"),
        "--set", "image.tag=" + imageTag,
        "--set", "logFormat=text"));
    args.addAll(List.of(extra));
    helm(args.toArray(String[]::new));
  }

  /**
   * A namespace for one test class, empty: one left from an earlier run (with MODELSHIP_E2E_KEEP=1) is deleted and
   * waited for first.
   */
  public void freshNamespace(String name) {
    var namespaces = client.namespaces();
    if (namespaces.withName(name).get() != null) {
      namespaces.withName(name).delete();
      org.awaitility.Awaitility.await("namespace " + name + " deleted").atMost(Duration.ofMinutes(3))
          .until(() -> namespaces.withName(name).get() == null);
    }
    client.resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName(name)
        .endMetadata().build()).create();
  }

  /**
   * Deletes a test class's namespace and waits (at most two minutes, without failing) until its pods are gone, so
   * that their CPU requests are free for the next class. Kept with MODELSHIP_E2E_KEEP=1, for poking around.
   */
  public void releaseNamespace(String name) {
    if ("1".equals(System.getenv("MODELSHIP_E2E_KEEP"))) {
      return;
    }
    client.namespaces().withName(name).delete();
    try {
      org.awaitility.Awaitility.await("pods of namespace " + name + " gone").atMost(Duration.ofMinutes(2))
          .until(() -> client.pods().inNamespace(name).list().getItems().isEmpty());
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      progress("namespace " + name + " still has pods two minutes after its deletion; going on");
    }
  }

  /** The kubectl binary the tests use. */
  public String kubectlBinary() {
    return env.get("MODELSHIP_KUBECTL");
  }

  /**
   * A user's PATH on this machine, made once: the cluster's kubectl and, beside it, the kubectl plugin of this
   * checkout, ahead of this process's own PATH. With {@link #kubeconfig()} as KUBECONFIG, `kubectl` and
   * `kubectl modelship` work as the README types them.
   */
  public synchronized String userPath() throws IOException {
    if (userBin == null) {
      Path bin = Files.createTempDirectory("user-path");
      Files.createSymbolicLink(bin.resolve("kubectl"), Path.of(kubectlBinary()));
      Files.createSymbolicLink(bin.resolve("kubectl-modelship"), root.resolve("kubectl-plugin/kubectl-modelship"));
      userBin = bin;
    }
    return userBin + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
  }

  /** The cluster's kubeconfig, as a user's KUBECONFIG would name it. */
  public String kubeconfig() {
    return env.get("KUBECONFIG");
  }

  /** kubectl against the cluster, as a user types it; returns its output, fails on a non-zero exit. */
  public String kubectl(String... args) {
    List<String> command = new ArrayList<>(List.of(env.get("MODELSHIP_KUBECTL"), "--kubeconfig", env.get("KUBECONFIG")));
    command.addAll(List.of(args));
    try {
      return output(Duration.ofMinutes(2), command.toArray(String[]::new));
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  public String helm(String... args) {
    List<String> command = new ArrayList<>(List.of(env.get("MODELSHIP_HELM"), "--kubeconfig", env.get("KUBECONFIG")));
    command.addAll(List.of(args));
    try {
      return output(Duration.ofMinutes(6), command.toArray(String[]::new));
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** cluster/gpu.sh: fake nvidia.com/gpu capacity on the node, so GPU pods schedule for real. */
  public void gpus(int count) {
    try {
      if (count == 0) {
        run(Duration.ofMinutes(1), root.resolve("cluster/gpu.sh").toString(), "clear");
      } else {
        run(Duration.ofMinutes(1), root.resolve("cluster/gpu.sh").toString(), "set", String.valueOf(count));
      }
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The java processes of a pod on this host, found by the HOSTNAME in their environment, which is the pod's name
   * (the node is this machine: every container runs here).
   */
  public List<Long> javaProcessesOf(String pod) throws IOException {
    List<Long> pids = new ArrayList<>();
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
        try {
          String environ = Files.readString(proc.resolve("environ"), StandardCharsets.ISO_8859_1);
          String cmdline = Files.readString(proc.resolve("cmdline"), StandardCharsets.ISO_8859_1);
          if (environ.contains("\0HOSTNAME=" + pod + "\0") && cmdline.contains("java")) {
            pids.add(Long.parseLong(proc.getFileName().toString()));
          }
        } catch (IOException e) {
          // a process that ended meanwhile, or one we may not read
        }
      }
    }
    return pids;
  }

  /**
   * SIGKILL to the main process of a pod, from the host, as a node loss or an OOM kill would end it: no shutdown
   * hook, no Lease given back.
   */
  public void sigkill(String pod) throws IOException, InterruptedException {
    List<Long> killed = javaProcessesOf(pod);
    if (killed.isEmpty()) {
      throw new IllegalStateException("no java process of pod " + pod + " found on this host");
    }
    killed.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    progress("SIGKILL to pod " + pod + " (pid " + killed + ")");
  }

  public KubernetesClient client() {
    return client;
  }

  public String image(String name) {
    return env.get("MODELSHIP_REGISTRY") + "/modelship/" + name + ":" + imageTag;
  }

  public Path coreDnsQueryLog() {
    return Path.of(env.get("MODELSHIP_COREDNS_QUERY_LOG"));
  }

  @Override
  public void close() {
    down();
    try {
      Runtime.getRuntime().removeShutdownHook(teardownOnExit);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down; the hook runs down() once more, which does nothing
    }
  }

  private synchronized void down() {
    if (closed) {
      return;
    }
    closed = true;
    if (keep) {
      progress("the cluster stays up: KUBECONFIG=" + (env == null ? "(not up)" : env.get("KUBECONFIG"))
          + "; cluster/down.sh tears it down and restores the host");
      return;
    }
    progress("tearing the cluster down (cluster/down.sh)");
    if (client != null) {
      client.close();
    }
    try {
      run(Duration.ofMinutes(5), root.resolve("cluster/down.sh").toString());
    } catch (IOException | InterruptedException | RuntimeException e) {
      System.out.println("[e2e] cluster/down.sh failed: " + e.getMessage() + "; run it by hand to restore the host");
    }
  }

  static void progress(String message) {
    System.out.println("[" + label + "] " + message);
  }

  /** Runs a command with its output shown line by line (the cluster's first build is long: it says how far). */
  private void run(Duration limit, String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true).start();
    List<String> tail = new ArrayList<>();
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        System.out.println("  " + line);
        tail.add(line);
        if (tail.size() > 30) {
          tail.remove(0);
        }
      }
    }
    if (!process.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " did not finish within " + limit);
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException(command[0] + " exited " + process.exitValue() + ":\n" + String.join("\n", tail));
    }
  }

  private String output(Duration limit, String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " did not finish within " + limit);
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", List.of(command).subList(0, Math.min(4, command.length)))
          + " ... exited " + process.exitValue() + ": " + out.strip());
    }
    return out;
  }
}
