package io.modelship.e2e;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The README's run command (e2e/demo.sh runs this): Modelship doing its job on this machine. It brings up the
 * project's one-node Kubernetes, installs the chart with images built here, starts an S3 server holding three model
 * versions and plays {@link DemoStory}; then it tears everything down, unless {@code --keep}.
 *
 * <p>Exit status: 0 when the story played out as it should, 1 when it did not (what went otherwise is printed),
 * 2 when this machine cannot run it (the reason is printed), 64 for a usage error.
 */
public final class Demo {
  static final String NAMESPACE = "demo";

  private Demo() {}

  static final String HELP = """
      Usage: e2e/demo.sh [--keep] [--out DIR] [--help]

      Plays a real rollout on this machine: a one-node Kubernetes (cluster/up.sh; the first run builds it from
      source, about 15 minutes, then cached), the chart installed with the operator and model-server images built
      here by Jib, an S3 server holding three versions of a model, and clients sending 20 requests/s through the
      model's Service the whole time. v1 becomes stable; v2 goes 10 % -> 50 % -> 100 % and is promoted; v3, which
      fails every request, is rolled back by its gate while v2 serves on. About two minutes once the cluster is
      built. A timeline is printed as it happens, then a summary table.

        --keep      leave the cluster, the operator, the model and the S3 server running afterwards, for kubectl
                    and curl (KUBECONFIG is printed); Ctrl-C then stops the S3 server, cluster/down.sh the rest
        --out DIR   where the picture and the tables go (default e2e/target/demo): rollout.svg, rollout.html
                    (picture, summary and timeline in one file), timeline.txt, summary.md
        --help      this text

      Needs Linux, root, Go and apt (as the end-to-end tests do). Everything it starts is stopped and the host
      restored when it ends, also on Ctrl-C (unless --keep).
      Exit status: 0 the story played out as it should; 1 it did not (what went otherwise is printed);
      2 this machine cannot run it (the reason is printed); 64 bad usage.
      """;

  public static void main(String[] args) throws Exception {
    boolean keep = false;
    Path root = Path.of(System.getProperty("modelship.root", "..")).toAbsolutePath().normalize();
    Path out = root.resolve("e2e/target/demo");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--help", "-h" -> {
          System.out.print(HELP);
          return;
        }
        case "--keep" -> keep = true;
        case "--out" -> {
          if (i + 1 == args.length) {
            usage("--out needs a directory");
          }
          out = Path.of(args[++i]).toAbsolutePath();
        }
        default -> usage("unknown argument " + args[i]);
      }
    }
    Optional<String> why = RealCluster.unavailableReason();
    if (why.isPresent()) {
      System.out.println("[demo] cannot run here: " + why.get());
      System.exit(2);
    }
    currentContext().ifPresent(context -> System.out.println("[demo] your current kube context (" + context
        + ") answers; the demo leaves it alone: it needs its images in a registry the cluster pulls from and an S3"
        + " server the pods reach, which its own one-node cluster has"));
    int status;
    RealCluster cluster = RealCluster.startForDemo(keep);
    ModelStore store = new ModelStore(cluster.nodeIp);
    try {
      cluster.freshNamespace(NAMESPACE);
      store.credentialsIn(cluster, NAMESPACE);
      DemoStory story = new DemoStory(cluster, store, NAMESPACE, System.out);
      DemoStory.Result result = story.play(out);
      System.out.println("[demo] picture: " + result.picture());
      System.out.println("[demo] page (picture, summary, timeline): " + result.page());
      if (result.asExpected()) {
        System.out.println("[demo] the story played out as it should: v1 stable, v2 promoted with no client error,"
            + " v3 rolled back by its gate");
        status = 0;
      } else {
        System.out.println("[demo] NOT AS EXPECTED:");
        result.problems().forEach(p -> System.out.println("  - " + p));
        status = 1;
      }
      if (keep) {
        System.out.println("""
            [demo] --keep: everything stays up. In another shell:
              export KUBECONFIG=%s
              kubectl get mdep,pods,svc -n %s
              kubectl-plugin/kubectl-modelship status %s -n %s
              curl -s http://%s/v2/models/%s/infer -d '%s'
            [demo] Ctrl-C stops the S3 server (pods keep the models they loaded); cluster/down.sh tears the cluster
            down and restores the host.""".formatted(cluster.kubeconfig(), NAMESPACE, DemoStory.MODEL, NAMESPACE,
            story.mdep().clusterIp(), DemoStory.MODEL, Traffic.IRIS_BODY));
        Thread.currentThread().join();
      }
    } catch (RuntimeException e) {
      System.out.println("[demo] failed: " + e);
      status = 1;
    } finally {
      if (!keep) {
        store.close();
        cluster.close();
      }
    }
    System.exit(status);
  }

  /** The current kube context and its server, when there is one and it answers within a few seconds. */
  private static Optional<String> currentContext() {
    try {
      io.fabric8.kubernetes.client.Config config = io.fabric8.kubernetes.client.Config.autoConfigure(null);
      if (config.getCurrentContext() == null) {
        return Optional.empty();
      }
      config.setConnectionTimeout(3_000);
      config.setRequestTimeout(3_000);
      config.setRequestRetryBackoffLimit(0);
      try (var client = new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(config).build()) {
        client.getKubernetesVersion();
        return Optional.of(config.getCurrentContext().getName() + " at " + config.getMasterUrl());
      }
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  private static void usage(String message) {
    System.out.print("e2e/demo.sh: " + message + "\n\n" + HELP);
    System.exit(64);
  }
}
