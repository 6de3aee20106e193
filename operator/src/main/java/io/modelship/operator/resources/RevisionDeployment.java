package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.GpuSpec;
import io.modelship.operator.api.spec.MlflowSource;
import io.modelship.operator.api.spec.ModelSource;
import io.modelship.operator.api.spec.S3Source;
import io.modelship.operator.api.spec.SchedulingSpec;
import io.modelship.operator.api.spec.ServerSpec;
import io.modelship.operator.revision.PodContract;
import io.modelship.operator.revision.Revision;
import io.modelship.operator.revision.Revision.RevisionTemplate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Deployment of one revision, {@code <name>-<revision>}: an init container that fetches and verifies the
 * artifact, then the model server that loads, warms up and serves it. Built from scratch from the revision
 * template, following docs/pod-contract.md; it must never depend on what is in the cluster.
 */
public final class RevisionDeployment {
  public static final String GPU_RESOURCE = "nvidia.com/gpu";
  public static final String GPU_PRODUCT_LABEL = "nvidia.com/gpu.product";
  static final String MODEL_DIR = "/models";
  static final String CREDENTIALS_DIR = "/etc/modelship/source-credentials";
  static final String API_KEY_DIR = "/etc/modelship/api-key";
  static final String API_KEY_KEY = "api-key";
  /** The model server runs as this user; the image's files must be readable by it. */
  static final long RUN_AS_USER = 65532L;
  /** Seconds before the first startup probe: a JVM listening and a small model warmed up, on a busy node. */
  static final int STARTUP_PROBE_DELAY_SECONDS = 5;
  /** How long the model server holds a startup probe's answer while the model loads and warms up. */
  static final int STARTUP_PROBE_HOLD_SECONDS = 30;
  /** Seconds a terminating pod keeps serving before SIGTERM, while kube-proxy everywhere drops its endpoints. */
  static final long PRE_STOP_SECONDS = 5;

  /**
   * On the Deployment: what another revision must share with this one to be rolled out inside its pods
   * ({@link Revision#inPlaceKey()}).
   */
  public static final String IN_PLACE_KEY_ANNOTATION = "modelship.io/in-place-key";

  private RevisionDeployment() {}

  public static Deployment desired(ModelDeployment mdep, Revision revision, int replicas) {
    RevisionTemplate t = revision.template();
    Map<String, String> labels = Labels.forRevision(mdep, revision.hash());
    SchedulingSpec scheduling = t.scheduling() != null ? t.scheduling() : new SchedulingSpec();
    GpuSpec gpu = t.resources() != null ? t.resources().getGpu() : null;

    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(revision.objectName(mdep))
        .withNamespace(mdep.getMetadata().getNamespace())
        .withLabels(labels)
        .withAnnotations(Map.of(IN_PLACE_KEY_ANNOTATION, revision.inPlaceKey()))
        .withOwnerReferences(Labels.ownerReference(mdep))
        .endMetadata()
        .withNewSpec()
        .withReplicas(replicas)
        .withRevisionHistoryLimit(1)
        // A revision's template never changes (a change is a new revision), so this only matters for
        // pods replaced after a node loss: never take a serving pod away before its replacement is ready.
        .withNewStrategy()
        .withType("RollingUpdate")
        .withNewRollingUpdate()
        .withMaxUnavailable(new IntOrString(0))
        .withMaxSurge(new IntOrString(1))
        .endRollingUpdate()
        .endStrategy()
        .withNewSelector()
        .withMatchLabels(Labels.revisionSelector(mdep, revision.hash()))
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(labels)
        .withAnnotations(
            Map.of(
                "prometheus.io/scrape", "true",
                "prometheus.io/port", String.valueOf(PodContract.HTTP_PORT),
                "prometheus.io/path", "/metrics"))
        .endMetadata()
        .withNewSpec()
        // The model server never talks to the Kubernetes API.
        .withAutomountServiceAccountToken(false)
        .withEnableServiceLinks(false)
        .withTerminationGracePeriodSeconds(60L)
        .withSecurityContext(
            new PodSecurityContextBuilder()
                .withRunAsNonRoot(true)
                .withRunAsUser(RUN_AS_USER)
                .withRunAsGroup(RUN_AS_USER)
                .withFsGroup(RUN_AS_USER)
                .withNewSeccompProfile()
                .withType("RuntimeDefault")
                .endSeccompProfile()
                .build())
        .withInitContainers(fetchContainer(t, revision.objectName(mdep)))
        .withContainers(serveContainer(mdep, t, revision.hash()))
        .withVolumes(volumes(t, mdep))
        .withNodeSelector(nodeSelector(scheduling, gpu))
        .withTolerations(tolerations(scheduling, gpu))
        .withAffinity(scheduling.getAffinity())
        .withPriorityClassName(scheduling.getPriorityClassName())
        .withRuntimeClassName(scheduling.getRuntimeClassName())
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /**
   * Environment variables the operator sets on the model-server container for this spec. A user's
   * spec.server.env may not name them again: under server-side apply a duplicate name is refused outright.
   */
  public static java.util.Set<String> reservedEnv(RevisionTemplate t) {
    java.util.Set<String> names = new java.util.LinkedHashSet<>();
    serveEnv(t, "").forEach(e -> names.add(e.getName()));
    return names;
  }

  private static Container fetchContainer(RevisionTemplate t, String objectName) {
    List<EnvVar> env = new ArrayList<>(commonEnv());
    ModelSource source = t.model().getSource();
    if (source.getS3() != null) {
      S3Source s3 = source.getS3();
      env.add(env("MODELSHIP_SOURCE", s3.getUri()));
      addIfSet(env, "MODELSHIP_S3_ENDPOINT", s3.getEndpoint());
      addIfSet(env, "MODELSHIP_S3_REGION", s3.getRegion());
    } else {
      MlflowSource mlflow = source.getMlflow();
      env.add(env("MODELSHIP_SOURCE", "mlflow://" + mlflow.getName()));
      env.add(env("MODELSHIP_MLFLOW_TRACKING_URI", mlflow.getTrackingUri()));
      addIfSet(env, "MODELSHIP_MLFLOW_ALIAS", mlflow.getAlias());
      addIfSet(env, "MODELSHIP_MLFLOW_VERSION", mlflow.getVersion());
    }
    addIfSet(env, "MODELSHIP_SHA256", t.model().getSha256());
    if (t.model().getSha256() == null) {
      env.add(RevisionPin.env(objectName));
    }
    env.add(env("MODELSHIP_CREDENTIALS_DIR", CREDENTIALS_DIR));

    List<VolumeMount> mounts = new ArrayList<>(List.of(mount("models", MODEL_DIR, false), mount("tmp", "/tmp", false)));
    if (credentialsSecret(source) != null) {
      mounts.add(mount("source-credentials", CREDENTIALS_DIR, true));
    }
    return new ContainerBuilder()
        .withName(PodContract.FETCH_CONTAINER)
        .withImage(t.image())
        .withArgs("fetch")
        .withEnv(env)
        .withVolumeMounts(mounts)
        .withSecurityContext(containerSecurity())
        // fetch writes its one-line result (or error) here; the operator reads it from the pod status.
        .withTerminationMessagePath("/dev/termination-log")
        .withTerminationMessagePolicy("FallbackToLogsOnError")
        .withResources(fetchResources(t))
        .build();
  }

  private static Container serveContainer(ModelDeployment mdep, RevisionTemplate t, String revision) {
    ServerSpec server = t.server() != null ? t.server() : new ServerSpec();
    List<EnvVar> env = serveEnv(t, revision);
    // The user's variables come last; validation refuses names the operator sets (a duplicate under SSA fails).
    if (server.getEnv() != null) {
      env.addAll(server.getEnv());
    }
    List<VolumeMount> mounts = new ArrayList<>(List.of(mount("models", MODEL_DIR, true), mount("tmp", "/tmp", false)));
    if (server.getApiKeySecret() != null) {
      mounts.add(mount("api-key", API_KEY_DIR, true));
    }
    mounts.add(mount(AdminToken.VOLUME, AdminToken.DIR, true));
    // An in-place rollout has the server fetch the next version itself, with the pod's own credentials, and a
    // restarted pod reads what it should hold from the placement (docs/pod-contract.md).
    if (credentialsSecret(t.model().getSource()) != null) {
      mounts.add(mount("source-credentials", CREDENTIALS_DIR, true));
    }
    mounts.add(mount(PlacementConfigMap.VOLUME, PlacementConfigMap.DIR, true));
    return new ContainerBuilder()
        .withName(PodContract.SERVE_CONTAINER)
        .withImage(t.image())
        .withArgs("serve")
        .withEnv(env)
        .addNewPort()
        .withName(PodContract.HTTP_PORT_NAME)
        .withContainerPort(PodContract.HTTP_PORT)
        .withProtocol("TCP")
        .endPort()
        .withVolumeMounts(mounts)
        .withSecurityContext(containerSecurity())
        // Ready only once the model is loaded and warmed up: no request ever meets a cold model.
        .withReadinessProbe(httpProbe("/v2/health/ready", 0, 2, 2, 3))
        .withLivenessProbe(httpProbe("/v2/health/live", 0, 10, 2, 3))
        // Large models take minutes to load; liveness must not kill a pod that is still loading. The first probe
        // waits for the JVM to listen; the server holds its answer while the model loads and warms up (up to
        // STARTUP_PROBE_HOLD_SECONDS), so a normal start logs no failed probe (each failure is a Warning Event) and
        // turns ready the moment the model does. A server that never listens is given a minute, a model that
        // never gets ready 60 held probes: half an hour.
        .withStartupProbe(httpProbe("/v2/health/ready?waitSeconds=" + STARTUP_PROBE_HOLD_SECONDS,
            STARTUP_PROBE_DELAY_SECONDS, 1, STARTUP_PROBE_HOLD_SECONDS + 2, 60))
        // Endpoints are removed from Services when the pod starts terminating, but kube-proxy on every node takes
        // a moment to notice: keep serving normally for that moment before the server's own drain begins.
        .withNewLifecycle()
        .withNewPreStop()
        .withNewSleep()
        .withSeconds(PRE_STOP_SECONDS)
        .endSleep()
        .endPreStop()
        .endLifecycle()
        .withResources(serveResources(t))
        .build();
  }

  /** The model-server container's environment, without the user's own variables. */
  private static List<EnvVar> serveEnv(RevisionTemplate t, String revision) {
    ServerSpec server = t.server() != null ? t.server() : new ServerSpec();
    List<EnvVar> env = new ArrayList<>(commonEnv());
    env.add(env("MODELSHIP_MODEL_NAME", t.model().getName()));
    // A source without a registry version (S3, HTTP) is served as its revision, the name status and kubectl show.
    env.add(env("MODELSHIP_DEFAULT_MODEL_VERSION", revision));
    env.add(env("MODELSHIP_PORT", String.valueOf(PodContract.HTTP_PORT)));
    env.add(env("DJL_CACHE_DIR", "/tmp/djl"));
    if (server.getBatching() != null) {
      if (server.getBatching().getMaxBatchSize() != null) {
        env.add(env("MODELSHIP_MAX_BATCH_SIZE", server.getBatching().getMaxBatchSize().toString()));
      }
      if (server.getBatching().getMaxDelay() != null) {
        env.add(env("MODELSHIP_MAX_BATCH_DELAY_MS", String.valueOf(toMillis(server.getBatching().getMaxDelay()))));
      }
    }
    if (server.getWarmup() != null && server.getWarmup().getIterations() != null) {
      env.add(env("MODELSHIP_WARMUP_ITERATIONS", server.getWarmup().getIterations().toString()));
    }
    if (server.getApiKeySecret() != null) {
      env.add(env("MODELSHIP_API_KEY_FILE", API_KEY_DIR + "/" + API_KEY_KEY));
    }
    // Only the operator, which holds the token, may turn shadow traffic on or place versions (docs/pod-contract.md).
    env.add(env(AdminToken.ENV, AdminToken.DIR + "/" + AdminToken.KEY));
    env.add(env("MODELSHIP_CREDENTIALS_DIR", CREDENTIALS_DIR));
    env.add(env(PlacementConfigMap.ENV, PlacementConfigMap.DIR + "/" + PlacementConfigMap.KEY));
    return env;
  }


  private static List<EnvVar> commonEnv() {
    // Nothing calls home: DJL would probe a cloud metadata address, and ONNX Runtime 1.29 sends telemetry from
    // Linux unless this variable is set before it starts (the image and the server set it too).
    return List.of(env("OPT_OUT_TRACKING", "true"), env("DJL_OFFLINE", "true"), env("ORT_DISABLE_TELEMETRY", "1"),
        env("MODELSHIP_MODEL_DIR", MODEL_DIR));
  }

  private static List<Volume> volumes(RevisionTemplate t, ModelDeployment mdep) {
    List<Volume> volumes = new ArrayList<>();
    volumes.add(new VolumeBuilder().withName(AdminToken.VOLUME).withNewSecret()
        .withSecretName(AdminToken.secretName(mdep)).withDefaultMode(0440).endSecret().build());
    volumes.add(new VolumeBuilder().withName("models").withNewEmptyDir().endEmptyDir().build());
    volumes.add(PlacementConfigMap.volume(mdep));
    volumes.add(new VolumeBuilder().withName("tmp").withNewEmptyDir().endEmptyDir().build());
    String credentials = credentialsSecret(t.model().getSource());
    if (credentials != null) {
      volumes.add(secretVolume("source-credentials", credentials));
    }
    if (t.server() != null && t.server().getApiKeySecret() != null) {
      volumes.add(secretVolume("api-key", t.server().getApiKeySecret()));
    }
    return volumes;
  }

  private static Volume secretVolume(String name, String secret) {
    return new VolumeBuilder()
        .withName(name)
        .withNewSecret()
        .withSecretName(secret)
        .withDefaultMode(0440)
        .endSecret()
        .build();
  }

  static String credentialsSecret(ModelSource source) {
    if (source.getS3() != null) {
      return source.getS3().getCredentialsSecret();
    }
    return source.getMlflow() != null ? source.getMlflow().getCredentialsSecret() : null;
  }

  private static ResourceRequirements serveResources(RevisionTemplate t) {
    Map<String, Quantity> requests = new LinkedHashMap<>();
    Map<String, Quantity> limits = new LinkedHashMap<>();
    if (t.resources() != null) {
      if (t.resources().getCpu() != null) {
        requests.put("cpu", t.resources().getCpu());
      }
      if (t.resources().getMemory() != null) {
        requests.put("memory", t.resources().getMemory());
        limits.put("memory", t.resources().getMemory());
      }
      GpuSpec gpu = t.resources().getGpu();
      if (gpu != null && gpu.getCount() != null) {
        // Extended resources are requested through limits; the request defaults to the limit.
        limits.put(gpuResourceName(gpu), new Quantity(gpu.getCount().toString()));
      }
    }
    return new ResourceRequirements(null, limits, requests);
  }

  private static ResourceRequirements fetchResources(RevisionTemplate t) {
    // The fetch step needs a little CPU for hashing and no GPU; its memory bound keeps a runaway download
    // from taking the node down.
    return new ResourceRequirements(
        null, Map.of("memory", new Quantity("512Mi")), Map.of("cpu", new Quantity("100m"), "memory", new Quantity("256Mi")));
  }

  /** Whole GPUs, or MIG slices of the given profile (the device plugin's "mixed" strategy). */
  public static String gpuResourceName(GpuSpec gpu) {
    return gpu.getMigProfile() != null ? "nvidia.com/mig-" + gpu.getMigProfile() : GPU_RESOURCE;
  }

  private static Map<String, String> nodeSelector(SchedulingSpec scheduling, GpuSpec gpu) {
    Map<String, String> selector = new LinkedHashMap<>();
    if (scheduling.getNodeSelector() != null) {
      selector.putAll(scheduling.getNodeSelector());
    }
    if (gpu != null && gpu.getType() != null) {
      selector.put(GPU_PRODUCT_LABEL, gpu.getType());
    }
    return selector.isEmpty() ? null : selector;
  }

  private static List<Toleration> tolerations(SchedulingSpec scheduling, GpuSpec gpu) {
    List<Toleration> tolerations = new ArrayList<>();
    if (scheduling.getTolerations() != null) {
      tolerations.addAll(scheduling.getTolerations());
    }
    boolean wantsGpu = gpu != null && gpu.getCount() != null;
    boolean alreadyTolerated = tolerations.stream().anyMatch(tol -> GPU_RESOURCE.equals(tol.getKey()));
    if (wantsGpu && !alreadyTolerated) {
      // GPU node pools are commonly tainted nvidia.com/gpu:NoSchedule to keep other pods off them.
      tolerations.add(
          new TolerationBuilder().withKey(GPU_RESOURCE).withOperator("Exists").withEffect("NoSchedule").build());
    }
    return tolerations.isEmpty() ? null : tolerations;
  }

  private static SecurityContext containerSecurity() {
    return new SecurityContextBuilder()
        .withAllowPrivilegeEscalation(false)
        .withReadOnlyRootFilesystem(true)
        .withRunAsNonRoot(true)
        .withNewCapabilities()
        .withDrop("ALL")
        .endCapabilities()
        .build();
  }

  private static Probe httpProbe(String path, int initialDelaySeconds, int periodSeconds, int timeoutSeconds,
      int failureThreshold) {
    return new ProbeBuilder()
        .withNewHttpGet()
        .withPath(path)
        .withPort(new IntOrString(PodContract.HTTP_PORT_NAME))
        .endHttpGet()
        .withInitialDelaySeconds(initialDelaySeconds > 0 ? initialDelaySeconds : null)
        .withPeriodSeconds(periodSeconds)
        .withTimeoutSeconds(timeoutSeconds)
        .withFailureThreshold(failureThreshold)
        .build();
  }

  private static VolumeMount mount(String name, String path, boolean readOnly) {
    return new VolumeMountBuilder().withName(name).withMountPath(path).withReadOnly(readOnly).build();
  }

  private static EnvVar env(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }

  private static void addIfSet(List<EnvVar> env, String name, String value) {
    if (value != null && !value.isEmpty()) {
      env.add(env(name, value));
    }
  }

  /** "250ms" or "2s" (the CRD's pattern) to milliseconds. */
  static long toMillis(String duration) {
    if (duration.endsWith("ms")) {
      return Long.parseLong(duration.substring(0, duration.length() - 2));
    }
    return Long.parseLong(duration.substring(0, duration.length() - 1)) * 1000;
  }
}
