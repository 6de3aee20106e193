package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The bad-input corpus (src/test/resources/bad-input, one malformed or hostile ModelDeployment per file, with its
 * expected outcome in its header), applied with kubectl to the real API server and operator: each is either
 * refused by the API server with a message naming what to fix, or accepted and reported by the operator
 * (Ready=False with the reason and an actionable message, a Warning Event) with nothing deployed. Beside them a
 * ModelDeployment serves throughout; none of the bad ones disturbs it, and editing it into a bad spec leaves its
 * pods as they were.
 *
 * <p>A case file: {@code # expect: refused|reported}, {@code # reason: InvalidSpec} (reported only),
 * {@code # message: a && b} (substrings the error or the condition must hold), optional {@code # name:} and
 * {@code # secret:} (a Secret holding only AWS_ACCESS_KEY_ID), then the {@code spec:}.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BadInputCorpusE2eTest {
  private static final String NAMESPACE = "e2e-bad-input";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);
  private static Map<String, String> steadyPods;
  private static final AtomicInteger refused = new AtomicInteger();
  private static final AtomicInteger reported = new AtomicInteger();

  record Case(String file, String why, String expect, Optional<String> reason, List<String> messages,
      Optional<String> name, Optional<String> secret, String spec) {

    String objectName() {
      return name.orElse("bad-" + file.substring(0, file.indexOf('-')));
    }

    String manifest() {
      return "apiVersion: modelship.io/v1alpha1\nkind: ModelDeployment\nmetadata:\n  name: " + objectName()
          + "\n  namespace: " + NAMESPACE + "\n" + spec;
    }
  }

  static List<Case> corpus() throws IOException, URISyntaxException {
    Path dir = Path.of(BadInputCorpusE2eTest.class.getResource("/bad-input").toURI());
    List<Case> cases = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        List<String> lines = Files.readAllLines(file);
        Map<String, String> header = lines.stream().filter(l -> l.startsWith("# ") && l.indexOf(':') > 0)
            .collect(Collectors.toMap(l -> l.substring(2, l.indexOf(':')).strip(), l -> l.substring(l.indexOf(':') + 1).strip(),
                (a, b) -> a));
        String why = lines.get(0).substring(2);
        String spec = lines.stream().dropWhile(l -> l.startsWith("#")).collect(Collectors.joining("\n")) + "\n";
        cases.add(new Case(file.getFileName().toString(), why, header.get("expect"),
            Optional.ofNullable(header.get("reason")), Arrays.stream(header.get("message").split("&&")).map(String::strip).toList(),
            Optional.ofNullable(header.get("name")), Optional.ofNullable(header.get("secret")).map(s -> s.split(" ")[0]),
            spec));
      }
    }
    return cases;
  }

  @BeforeAll
  static void namespace() throws Exception {
    for (Case c : corpus()) {
      c.secret().ifPresent(secret -> ns.cluster().client().resource(new SecretBuilder().withNewMetadata().withName(secret)
          .withNamespace(NAMESPACE).endMetadata().addToStringData("AWS_ACCESS_KEY_ID", "only-half").build())
          .serverSideApply());
    }
  }

  @AfterAll
  static void cleanUp() throws Exception {
    RealCluster.progress("bad-input corpus: %d refused by the API server, %d reported by the operator"
        .formatted(refused.get(), reported.get()));
  }

  private static Mdeps steady() {
    return new Mdeps(ns.cluster(), NAMESPACE, "steady");
  }

  private static Map<String, String> pods() {
    return ns.cluster().client().pods().inNamespace(NAMESPACE).withLabel("modelship.io/deployment", "steady").list()
        .getItems().stream().collect(Collectors.toMap(p -> p.getMetadata().getName(), p -> p.getMetadata().getUid()
            + " restarts=" + p.getStatus().getContainerStatuses().stream().mapToInt(s -> s.getRestartCount()).sum()));
  }

  private static String apply(String yaml) throws Exception {
    Path file = Files.createTempFile("mdep", ".yaml");
    Files.writeString(file, yaml);
    return ns.cluster().kubectl("apply", "-f", file.toString());
  }

  @Test
  @Order(1)
  void aModelDeploymentServesBesideThem() throws Exception {
    String v1 = ns.store().putMlp("steady/1", new Mlp(4, 16, 1, 3, 31));
    ns.cluster().client().resource(Specs.s3(NAMESPACE, "steady", ns.store(), v1, 1)).create();
    await("steady serves").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
      assertThat(steady().phase()).isEqualTo(Phase.Stable);
      assertThat(steady().stable().getReadyReplicas()).isEqualTo(1);
    });
    steadyPods = pods();
    assertThat(steadyPods).hasSize(1);
  }

  @TestFactory
  @Order(2)
  Stream<DynamicTest> whatTheSchemaCanSeeIsRefusedByTheApiServer() throws Exception {
    return corpus().stream().filter(c -> c.expect().equals("refused")).map(c -> DynamicTest.dynamicTest(
        c.file() + ": " + c.why(), () -> {
          var thrown = assertThatThrownBy(() -> apply(c.manifest())).as(c.why());
          for (String message : c.messages()) {
            thrown.hasMessageContaining(message);
          }
          assertThat(ns.cluster().client().resources(ModelDeployment.class).inNamespace(NAMESPACE).withName(c.objectName())
              .get()).as("nothing was stored").isNull();
          refused.incrementAndGet();
        }));
  }

  @TestFactory
  @Order(3)
  Stream<DynamicTest> whatOnlyTheOperatorCanSeeIsReportedAndDeploysNothing() throws Exception {
    return corpus().stream().filter(c -> c.expect().equals("reported")).map(c -> DynamicTest.dynamicTest(
        c.file() + ": " + c.why(), () -> {
          assertThat(apply(c.manifest())).contains("created");
          String name = c.objectName();
          await(name).atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
            var status = new Mdeps(ns.cluster(), NAMESPACE, name).status();
            var ready = status.getConditions().stream().filter(k -> k.getType().equals("Ready")).findFirst();
            assertThat(ready).hasValueSatisfying(k -> {
              assertThat(k.getStatus()).isEqualTo("False");
              assertThat(k.getReason()).isEqualTo(c.reason().orElseThrow());
              for (String message : c.messages()) {
                assertThat(k.getMessage()).contains(message);
              }
            });
            assertThat(ns.cluster().client().v1().events().inNamespace(NAMESPACE).list().getItems())
                .filteredOn(e -> name.equals(e.getInvolvedObject().getName()) && "Warning".equals(e.getType()))
                .extracting(Event::getReason).contains(c.reason().orElseThrow());
          });
          assertThat(ns.cluster().client().apps().deployments().inNamespace(NAMESPACE).list().getItems())
              .as("nothing deployed").noneMatch(d -> d.getMetadata().getName().startsWith(name + "-"));
          reported.incrementAndGet();
        }));
  }

  @Test
  @Order(4)
  void noneOfThemDisturbedTheOneServingAndABadEditLeavesItsPodsAlone() throws Exception {
    assertThat(pods()).isEqualTo(steadyPods);
    assertThat(steady().phase()).isEqualTo(Phase.Stable);
    try (Traffic traffic = new Traffic(steady().clusterIp(), "steady", Traffic.IRIS_BODY, 10, 2)) {
      String revision = steady().stable().getRevision();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(traffic.answered(revision)).isGreaterThan(10));
      steady().edit(m -> {
        var server = new io.modelship.operator.api.spec.ServerSpec();
        server.setEnv(List.of(new io.fabric8.kubernetes.api.model.EnvVar("MODELSHIP_PORT", "9000", null)));
        m.getSpec().setServer(server);
      });
      await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(steady().condition("Ready", "reason"))
          .isEqualTo("InvalidSpec"));
      long answered = traffic.answered(revision);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(traffic.answered(revision))
          .isGreaterThan(answered + 10));
      assertThat(traffic.failures()).as("client-visible failures: %s", traffic.failureSamples()).isZero();
    }
    assertThat(pods()).as("the serving pods, untouched").isEqualTo(steadyPods);
    assertThat(steady().stable().getRevision()).isNotNull();
  }
}
