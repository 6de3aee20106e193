package io.modelship.operator.packaging;

import static io.modelship.operator.packaging.Manifests.ofKind;
import static io.modelship.operator.packaging.Manifests.one;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.modelship.operator.OperatorConfig;
import io.modelship.operator.api.ModelDeployment;
import io.fabric8.kubernetes.client.CustomResource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Helm chart is how the operator reaches a cluster: it must lint, render objects fabric8 can read, run the
 * operator hardened, grant exactly the permissions the operator uses, and hand it the settings it reads.
 */
class HelmChartTest {
  private static final String RELEASE = "modelship-operator";
  private static final String NAMESPACE = "modelship-system";

  @TempDir
  Path tmp;

  @Test
  void chartLintsWithoutWarnings() {
    var result = new Helm(RepoPaths.chart()).lint().strict().call();
    assertThat(result.isFailed()).as("helm lint --strict:%n%s", String.join("\n", result.getMessages())).isFalse();
  }

  @Test
  void defaultsRenderTheObjectsTheOperatorNeeds() {
    List<HasMetadata> objects = render(t -> t);
    assertThat(objects).extracting(HasMetadata::getKind)
        .containsExactlyInAnyOrder("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment", "Service");
    assertThat(objects).filteredOn(o -> !o.getKind().startsWith("Cluster"))
        .allSatisfy(o -> assertThat(o.getMetadata().getNamespace()).as(o.getKind()).isEqualTo(NAMESPACE));
    assertThat(objects).allSatisfy(o ->
        assertThat(o.getMetadata().getLabels()).containsEntry("app.kubernetes.io/instance", RELEASE));
  }

  @Test
  void operatorRunsHardened() {
    Deployment deployment = one(render(t -> t), Deployment.class);
    var pod = deployment.getSpec().getTemplate().getSpec();
    Container operator = operatorContainer(deployment);
    var sc = operator.getSecurityContext();
    assertThat(sc.getRunAsNonRoot()).isTrue();
    assertThat(sc.getReadOnlyRootFilesystem()).isTrue();
    assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
    assertThat(sc.getPrivileged()).isNotEqualTo(Boolean.TRUE);
    assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(sc.getCapabilities().getAdd()).isNullOrEmpty();
    assertThat(sc.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(pod.getHostNetwork()).isNotEqualTo(Boolean.TRUE);

    // A read-only root still needs somewhere to write: /tmp is an emptyDir.
    var tmpMount = operator.getVolumeMounts().stream().filter(m -> m.getMountPath().equals("/tmp")).findFirst();
    assertThat(tmpMount).as("/tmp mount").isPresent();
    assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals(tmpMount.get().getName()))
        .singleElement().satisfies(v -> assertThat(v.getEmptyDir()).isNotNull());

    assertThat(operator.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(operator.getResources().getLimits()).containsKey("memory");
  }

  /**
   * Measured: the operator's live heap after a full GC with 1,000 ModelDeployments (bench/scale.sh on the real
   * cluster, 2026-12-01: 98 MiB; 167 MiB before the informers dropped managedFields).
   */
  private static final long LIVE_HEAP_AT_1000_BYTES = 98L << 20;

  /**
   * The default memory limit holds 1,000 ModelDeployments: the heap the JVM options give (a share of the limit)
   * keeps that live set under G1's default 45% occupancy threshold, and what the heap leaves is room for the
   * rest of the JVM. Without options the JVM would take a quarter of the limit, 128 MiB of the old 512Mi.
   */
  @Test
  void theJvmHeapFitsAThousandModelDeploymentsInTheMemoryLimit() throws Exception {
    Container operator = operatorContainer(one(render(t -> t), Deployment.class));
    String options = env(operator).get("JAVA_TOOL_OPTIONS");
    assertThat(options).as("JAVA_TOOL_OPTIONS").contains("-XX:MaxRAMPercentage=", "-XX:+ExitOnOutOfMemoryError");
    double percent = Double.parseDouble(options.replaceAll(".*-XX:MaxRAMPercentage=([0-9.]+).*", "$1"));
    long limit = Quantity.getAmountInBytes(operator.getResources().getLimits().get("memory")).longValueExact();
    long heap = (long) (limit * percent / 100);
    assertThat(heap * 0.45).as("45%% of a %d MiB heap", heap >> 20).isGreaterThanOrEqualTo(LIVE_HEAP_AT_1000_BYTES);
    assertThat(limit - heap).as("what the heap leaves of the limit, MiB").isGreaterThanOrEqualTo(160L << 20);
    assertThat(Quantity.getAmountInBytes(operator.getResources().getRequests().get("memory")))
        .isLessThanOrEqualTo(Quantity.getAmountInBytes(operator.getResources().getLimits().get("memory")));

    // The JVM accepts the options as written (a misspelt -XX flag stops it from starting).
    var jvm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-version");
    jvm.environment().put("JAVA_TOOL_OPTIONS", options);
    jvm.redirectErrorStream(true);
    Process process = jvm.start();
    String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as(output).isZero();
    assertThat(output).contains("Picked up JAVA_TOOL_OPTIONS: " + options);

    assertThat(env(operatorContainer(one(render(t -> t.set("javaToolOptions", "")), Deployment.class))))
        .doesNotContainKey("JAVA_TOOL_OPTIONS");
  }

  @Test
  void operatorGetsTheImageSettingsAndProbesItExpects() {
    Deployment deployment = one(render(t -> t), Deployment.class);
    Container operator = operatorContainer(deployment);
    assertThat(operator.getImage()).isEqualTo("modelship/operator:" + appVersion());
    assertThat(operator.getImagePullPolicy()).isEqualTo("IfNotPresent");
    Map<String, String> env = env(operator);
    assertThat(env).containsEntry("MODELSHIP_LOG_FORMAT", "json")
        .containsEntry("MODELSHIP_HEALTH_PORT", "8081")
        .containsEntry("MODELSHIP_LEADER_ELECTION", "false")
        .containsEntry("MODELSHIP_WATCH_NAMESPACES", "");
    // The chart's default model-server image is the operator's own default: one release, one version.
    assertThat(env).containsEntry("MODELSHIP_MODEL_SERVER_IMAGE", OperatorConfig.DEFAULT_MODEL_SERVER_IMAGE);
    assertThat(operator.getEnv()).filteredOn(e -> e.getName().equals("POD_NAMESPACE")).singleElement()
        .satisfies(e -> assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.namespace"));

    assertThat(operator.getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getName()).isEqualTo("metrics");
      assertThat(p.getContainerPort()).isEqualTo(8081);
    });
    assertThat(operator.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(operator.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("metrics");
    assertThat(operator.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    assertThat(operator.getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("metrics");

    // The settings the operator actually reads from that environment.
    var config = OperatorConfig.fromEnvironment(withPodNamespace(env));
    assertThat(config.healthPort()).isEqualTo(8081);
    assertThat(config.leaderElection()).isFalse();
    assertThat(config.watchNamespaces()).isEmpty();
  }

  @Test
  void imagesAndWatchedNamespacesFollowValues() {
    Deployment deployment = one(render(t -> t.withValuesFile(values("""
        image: {registry: "registry.example.com:5000/team/", tag: "0.2.0-rc1"}
        modelServerImage: {repository: modelship/model-server-gpu}
        watchNamespaces: [ml, ml-staging]
        logFormat: text
        """))), Deployment.class);
    Container operator = operatorContainer(deployment);
    assertThat(operator.getImage()).isEqualTo("registry.example.com:5000/team/modelship/operator:0.2.0-rc1");
    var config = OperatorConfig.fromEnvironment(withPodNamespace(env(operator)));
    // One registry and, unless told otherwise, one tag for both: they come from one build.
    assertThat(config.modelServerImage()).isEqualTo("registry.example.com:5000/team/modelship/model-server-gpu:0.2.0-rc1");
    assertThat(config.watchNamespaces()).containsExactlyInAnyOrder("ml", "ml-staging");
    assertThat(env(operator)).containsEntry("MODELSHIP_LOG_FORMAT", "text");

    Deployment ownTag = one(render(t -> t.set("image.registry", "localhost:5000")
        .set("modelServerImage.tag", "dev").set("image.pullPolicy", "Always")), Deployment.class);
    assertThat(operatorContainer(ownTag).getImage()).isEqualTo("localhost:5000/modelship/operator:" + appVersion());
    assertThat(operatorContainer(ownTag).getImagePullPolicy()).isEqualTo("Always");
    assertThat(env(operatorContainer(ownTag))).containsEntry("MODELSHIP_MODEL_SERVER_IMAGE", "localhost:5000/modelship/model-server:dev");
  }

  /**
   * The images are built (Jib) as modelship/operator and modelship/model-server tagged with the Maven project
   * version; the chart's defaults must name exactly those, from one version written once, in Chart.yaml.
   */
  @Test
  void defaultImagesAreTheOnesTheBuildMakes() throws Exception {
    String version = mavenProjectVersion();
    assertThat(appVersion()).isEqualTo(version);
    Container operator = operatorContainer(one(render(t -> t), Deployment.class));
    assertThat(operator.getImage()).isEqualTo("modelship/operator:" + version);
    assertThat(env(operator)).containsEntry("MODELSHIP_MODEL_SERVER_IMAGE", "modelship/model-server:" + version);
    assertThat(OperatorConfig.DEFAULT_MODEL_SERVER_IMAGE).isEqualTo("modelship/model-server:" + version);
    assertThat(Files.readString(RepoPaths.chart().resolve("values.yaml"))).doesNotContain(version);
  }

  /** Which verbs on which resources: OperatorRbacTest derives them from the requests the operator makes. */
  @Test
  void clusterRoleIsNarrowAndBoundToTheOperator() {
    List<HasMetadata> objects = render(t -> t);
    ClusterRole role = one(objects, ClusterRole.class);
    List<PolicyRule> rules = role.getRules();

    assertThat(rules).allSatisfy(rule -> {
      assertThat(rule.getApiGroups()).doesNotContain("*");
      assertThat(rule.getResources()).doesNotContain("*");
      assertThat(rule.getVerbs()).doesNotContain("*");
      assertThat(rule.getNonResourceURLs()).isNullOrEmpty();
    });
    // Secrets are read by name and created (the admin token), never listed, watched, changed or deleted.
    assertThat(triples(rules)).filteredOn(t -> t.startsWith(" secrets ")).containsExactlyInAnyOrder(" secrets get",
        " secrets create");
    // The start-up checks read two CRDs, by name: ours, and whether Gateway API's HTTPRoute is served.
    assertThat(rules).filteredOn(r -> r.getResources().contains("customresourcedefinitions")).singleElement()
        .satisfies(r -> assertThat(r.getResourceNames()).containsExactly(
            CustomResource.getCRDName(ModelDeployment.class), "httproutes.gateway.networking.k8s.io"));

    ClusterRoleBinding binding = one(objects, ClusterRoleBinding.class);
    ServiceAccount account = one(objects, ServiceAccount.class);
    assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
    assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
      assertThat(s.getKind()).isEqualTo("ServiceAccount");
      assertThat(s.getName()).isEqualTo(account.getMetadata().getName());
      assertThat(s.getNamespace()).isEqualTo(NAMESPACE);
    });
    assertThat(one(objects, Deployment.class).getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo(account.getMetadata().getName());
  }

  @Test
  void podMetricsThroughTheApiserverComeWithTheirPermission() {
    ClusterRole direct = one(render(t -> t), ClusterRole.class);
    assertThat(triples(direct.getRules())).noneMatch(t -> t.contains("pods/proxy"));
    List<HasMetadata> objects = render(t -> t.set("podMetricsAccess", "proxy"));
    assertThat(triples(one(objects, ClusterRole.class).getRules())).contains(" pods/proxy get");
    assertThat(env(operatorContainer(one(objects, Deployment.class)))).containsEntry("MODELSHIP_METRICS_ACCESS", "proxy");
    assertThat(env(operatorContainer(one(render(t -> t), Deployment.class))))
        .containsEntry("MODELSHIP_METRICS_ACCESS", "direct");
  }

  @Test
  void oneReplicaRunsWithoutLeaderElectionAndNeverTwoAtOnce() {
    List<HasMetadata> objects = render(t -> t);
    Deployment deployment = one(objects, Deployment.class);
    assertThat(env(operatorContainer(deployment))).containsEntry("MODELSHIP_LEADER_ELECTION", "false");
    assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    assertThat(ofKind(objects, Role.class)).isEmpty();
    assertThat(ofKind(objects, RoleBinding.class)).isEmpty();
  }

  @Test
  void twoReplicasElectALeaderWithALeaseInTheReleaseNamespace() {
    List<HasMetadata> objects = render(t -> t.set("replicas", 2));
    Deployment deployment = one(objects, Deployment.class);
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(2);
    assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
    var config = OperatorConfig.fromEnvironment(withPodNamespace(env(operatorContainer(deployment))));
    assertThat(config.leaderElection()).isTrue();
    assertThat(config.leaseNamespace()).isEqualTo(NAMESPACE);

    Role role = one(objects, Role.class);
    assertThat(role.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
    // What the Lease lock sends (get, create, patch) and what java-operator-sdk checks for (update); LeaderElectionTest
    // holds the operators to exactly this Role.
    assertThat(triples(role.getRules())).containsExactlyInAnyOrder("coordination.k8s.io leases create",
        "coordination.k8s.io leases get", "coordination.k8s.io leases update", "coordination.k8s.io leases patch");
    // All but create are limited to the Lease the operator really uses.
    assertThat(role.getRules()).filteredOn(r -> !r.getVerbs().equals(List.of("create")))
        .allSatisfy(r -> assertThat(r.getResourceNames()).containsExactly(io.modelship.operator.ModelshipOperator.LEASE_NAME));
    RoleBinding binding = one(objects, RoleBinding.class);
    assertThat(binding.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
    assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
    assertThat(binding.getSubjects()).singleElement()
        .satisfies(s -> assertThat(s.getName()).isEqualTo(one(objects, ServiceAccount.class).getMetadata().getName()));
  }

  @Test
  void leaderElectionCanBeAskedForWithOneReplica() {
    List<HasMetadata> objects = render(t -> t.set("leaderElection.enabled", true));
    assertThat(env(operatorContainer(one(objects, Deployment.class)))).containsEntry("MODELSHIP_LEADER_ELECTION", "true");
    assertThat(ofKind(objects, Role.class)).hasSize(1);
  }

  @Test
  void metricsServiceReachesTheOperatorPods() {
    List<HasMetadata> objects = render(t -> t);
    Service service = one(objects, Service.class);
    Deployment deployment = one(objects, Deployment.class);
    assertThat(service.getSpec().getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getName()).isEqualTo("metrics");
      assertThat(p.getPort()).isEqualTo(8081);
      assertThat(p.getTargetPort().getStrVal()).isEqualTo("metrics");
    });
    assertThat(deployment.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(service.getSpec().getSelector());
    assertThat(deployment.getSpec().getSelector().getMatchLabels())
        .isEqualTo(service.getSpec().getSelector());
  }

  @Test
  void schemaRefusesValuesOfTheWrongType() {
    Path bad = values("replicas: \"two\"\n");
    assertThatThrownBy(() -> render(t -> t.withValuesFile(bad)))
        .hasMessageContaining("replicas");
  }

  @Test
  void schemaRefusesAnImageTagInTheWrongPlace() {
    assertThatThrownBy(() -> render(t -> t.withValuesFile(values("image: {repository: modelship/operator, tag: \"a:b\"}\n"))))
        .hasMessageContaining("tag");
    assertThatThrownBy(() -> render(t -> t.withValuesFile(values("modelServer: {image: {repository: x}}\n"))))
        .hasMessageContaining("modelServer");
  }

  @Test
  void schemaRefusesMisspelledValues() {
    // A typo must not silently fall back to a default.
    Path typo = values("watchNamespace: [ml]\n");
    assertThatThrownBy(() -> render(t -> t.withValuesFile(typo)))
        .hasMessageContaining("watchNamespace");
    Path badFormat = values("logFormat: yaml\n");
    assertThatThrownBy(() -> render(t -> t.withValuesFile(badFormat)))
        .hasMessageContaining("logFormat");
  }

  @Test
  void chartShipsTheCommittedCrdsByteForByte() throws IOException {
    Path committed = RepoPaths.crds();
    Path inChart = RepoPaths.chart().resolve("crds");
    String fix = "helm/modelship-operator/crds/ differs from crds/: run `./mvnw -pl operator -Pupdate-crds process-test-classes`"
        + " from the repository root and commit both";
    assertThat(fileNames(inChart)).as(fix).isEqualTo(fileNames(committed));
    for (String name : fileNames(committed)) {
      assertThat(Arrays.equals(Files.readAllBytes(inChart.resolve(name)), Files.readAllBytes(committed.resolve(name))))
          .as("%s: %s", name, fix).isTrue();
    }
  }

  private List<HasMetadata> render(UnaryOperator<TemplateCommand> values) {
    String yaml = values.apply(new Helm(RepoPaths.chart()).template().withName(RELEASE).withNamespace(NAMESPACE)).call();
    return Manifests.parse(yaml);
  }

  private Path values(String yaml) {
    try {
      return Files.writeString(Files.createTempFile(tmp, "values", ".yaml"), yaml);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private static Container operatorContainer(Deployment deployment) {
    return deployment.getSpec().getTemplate().getSpec().getContainers().stream()
        .filter(c -> c.getName().equals("operator")).findFirst()
        .orElseThrow(() -> new AssertionError("no container named operator"));
  }

  private static Map<String, String> env(Container container) {
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : container.getEnv()) {
      if (e.getValueFrom() == null) {
        env.put(e.getName(), e.getValue() == null ? "" : e.getValue());
      }
    }
    return env;
  }

  /** What the kubelet does with the downward-API POD_NAMESPACE. */
  private static Map<String, String> withPodNamespace(Map<String, String> env) {
    Map<String, String> resolved = new HashMap<>(env);
    resolved.put("POD_NAMESPACE", NAMESPACE);
    return resolved;
  }

  private static Set<String> triples(List<PolicyRule> rules) {
    return rules.stream()
        .flatMap(r -> r.getApiGroups().stream().flatMap(g -> r.getResources().stream()
            .flatMap(res -> r.getVerbs().stream().map(v -> g + " " + res + " " + v))))
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static Set<String> fileNames(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
    }
  }

  /** The version of the parent pom, which every module and both images carry. */
  private static String mavenProjectVersion() throws Exception {
    var pom = javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder()
        .parse(RepoPaths.root().resolve("pom.xml").toFile());
    return javax.xml.xpath.XPathFactory.newInstance().newXPath().evaluate("/project/version", pom).trim();
  }

  private static String appVersion() {
    try {
      return Files.readAllLines(RepoPaths.chart().resolve("Chart.yaml")).stream()
          .filter(l -> l.startsWith("appVersion:"))
          .map(l -> l.substring("appVersion:".length()).trim().replace("\"", ""))
          .findFirst().orElseThrow();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
