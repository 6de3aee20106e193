package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.modelship.operator.api.ModelDeployment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Mistakes as a user makes them, with kubectl apply: what the schema can see is refused by the API server with a
 * message that says what to fix; what only the operator can see (quantities the API server cannot parse, variables
 * the operator sets) is reported as InvalidSpec with a Warning Event, and nothing is deployed from it.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class BadSpecE2eTest {
  private static final String NAMESPACE = "e2e-bad-specs";
  private static RealCluster cluster;

  @BeforeAll
  static void namespace() {
    cluster = RealCluster.get();
    cluster.freshNamespace(NAMESPACE);
  }

  private static String spec(String name, String extra) {
    return """
        apiVersion: modelship.io/v1alpha1
        kind: ModelDeployment
        metadata:
          name: %s
          namespace: %s
        spec:
          model:
            name: %s
            source:
              s3: {uri: "s3://models/%s/1/", endpoint: "http://127.0.0.1:1"}
        %s
        """.formatted(name, NAMESPACE, name, name, extra.indent(2).stripTrailing());
  }

  private static String apply(String yaml) throws Exception {
    Path file = Files.createTempFile("mdep", ".yaml");
    Files.writeString(file, yaml);
    return cluster.kubectl("apply", "-f", file.toString());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      steps out of order   | rollout: {steps: [{weight: 50}, {weight: 10}, {weight: 100}]}       | step weights must increase
      last step not 100    | rollout: {steps: [{weight: 10}, {weight: 50}]}                      | the last step must have weight 100
      no steps             | rollout: {steps: []}                                                | should have at least 1 items
      interval of 0s       | rollout: {analysis: {interval: 0s}}                                  | interval must be at least 1s
      a valid spec         | replicas: 1                                                          | ok
      """)
  void theApiServerRefusesWhatTheSchemaCanSee(String why, String extra, String message) throws Exception {
    String name = "refused-" + why.replace(' ', '-').replaceAll("[^a-z0-9-]", "");
    if (message.equals("ok")) {
      // A control: the same spec without the mistake is accepted.
      assertThat(apply(spec(name, extra))).contains("created");
      cluster.kubectl("delete", "mdep", "-n", NAMESPACE, name, "--wait=false");
      return;
    }
    assertThatThrownBy(() -> apply(spec(name, extra))).hasMessageContaining(message);
    assertThat(cluster.client().resources(ModelDeployment.class).inNamespace(NAMESPACE).withName(name).get()).isNull();
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      cpu lots          | resources: {cpu: lots}                                           | spec.resources.cpu 'lots' is not a Kubernetes quantity
      memory 12XB       | resources: {memory: 12XB}                                        | spec.resources.memory '12XB' is not a Kubernetes quantity
      reserved env      | server: {env: [{name: MODELSHIP_PORT, value: "9000"}]}           | sets MODELSHIP_PORT, which the operator sets itself
      missing secret    | server: {apiKeySecret: no-such-secret}                           | Secret 'no-such-secret' named in spec.server.apiKeySecret does not exist
      """)
  void theOperatorReportsWhatOnlyItCanSeeAndDeploysNothing(String why, String extra, String message) throws Exception {
    String name = "invalid-" + why.replace(' ', '-').replaceAll("[^a-z0-9-]", "");
    apply(spec(name, extra));

    await(name).atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
      var ready = new Mdeps(cluster, NAMESPACE, name).status().getConditions().stream().filter(c -> c.getType().equals("Ready")).findFirst();
      assertThat(ready).hasValueSatisfying(c -> {
        assertThat(c.getReason()).isEqualTo("InvalidSpec");
        assertThat(c.getMessage()).contains(message);
      });
      assertThat(cluster.client().v1().events().inNamespace(NAMESPACE).list().getItems())
          .filteredOn(e -> name.equals(e.getInvolvedObject().getName()))
          .extracting(Event::getReason).contains("InvalidSpec");
    });
    assertThat(cluster.client().apps().deployments().inNamespace(NAMESPACE).list().getItems())
        .noneMatch(d -> d.getMetadata().getName().startsWith(name + "-"));
    assertThat(cluster.kubectl("get", "mdep", "-n", NAMESPACE, name)).contains("Failed");
  }

  @Test
  void aStepsListOfTheWrongShapeNamesTheField() throws Exception {
    assertThatThrownBy(() -> apply(spec("shape", "rollout: {steps: [{weight: 150}, {weight: 100}]}")))
        .hasMessageContaining("spec.rollout.steps[0].weight").hasMessageContaining("100");
  }
}
