package io.modelship.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.modelship.operator.api.CrdConstants;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.reconciler.SpecValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The examples are the first thing a user applies: each must be accepted by the CRD's schema, read into our
 * classes without a single unknown field, and pass the operator's own checks with the Secrets it ships.
 */
class ExamplesTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  /** Our spec classes know every field; an unknown one in an example is a typo the apiserver would drop. */
  private static final ObjectMapper STRICT =
      Serialization.jsonMapper().copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  private static final CrdSchema SCHEMA =
      CrdSchema.of(RepoPaths.crds().resolve("modeldeployments.modelship.io-v1.yml"));

  static Stream<Path> examples() throws IOException {
    try (Stream<Path> files = Files.list(RepoPaths.examples())) {
      return files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList().stream();
    }
  }

  @Test
  void theDocumentedExamplesAreThere() throws IOException {
    assertThat(examples().map(p -> p.getFileName().toString()))
        .contains("s3-model.yaml", "mlflow-alias.yaml", "gpu-model.yaml", "shadow-rollout.yaml", "inplace-rollout.yaml",
            "autoscaled-model.yaml");
  }

  @ParameterizedTest
  @MethodSource("examples")
  void parsesIntoKubernetesObjectsInTheMlNamespace(Path example) throws IOException {
    List<HasMetadata> objects = Manifests.parse(Files.readString(example));
    assertThat(objects).isNotEmpty();
    assertThat(objects).allSatisfy(o -> assertThat(o.getMetadata().getNamespace()).as(o.getKind()).isEqualTo("ml"));
  }

  @ParameterizedTest
  @MethodSource("examples")
  void everyModelDeploymentIsValidAgainstTheCrdAndTheOperator(Path example) throws IOException {
    List<JsonNode> docs = documents(example);
    List<Secret> secrets = secrets(docs);
    List<JsonNode> mdeps = docs.stream().filter(ExamplesTest::isModelDeployment).toList();
    assertThat(mdeps).as("ModelDeployments in %s", example.getFileName()).isNotEmpty();
    for (JsonNode doc : mdeps) {
      assertThat(SCHEMA.validateSpec(doc.get("spec"))).as("CRD schema").isEmpty();
      ModelDeployment mdep = STRICT.treeToValue(doc, ModelDeployment.class);
      assertThat(validate(new SpecValidator(lookup(secrets)), mdep)).as("SpecValidator").isEmpty();
    }
  }

  @ParameterizedTest
  @MethodSource("examples")
  void shippedSecretsHoldOnlyPlaceholders(Path example) throws IOException {
    for (Secret secret : secrets(documents(example))) {
      assertThat(secret.getData()).as("use stringData placeholders, not data").isNullOrEmpty();
      assertThat(secret.getStringData().values()).allSatisfy(v -> assertThat(v).startsWith("REPLACE-"));
    }
  }

  @Test
  void s3ExampleUsesAnS3CompatibleEndpointAndItsCredentials() throws IOException {
    ModelDeployment mdep = modelDeployment("s3-model.yaml");
    var s3 = mdep.getSpec().getModel().getSource().getS3();
    assertThat(s3.getEndpoint()).startsWith("http");
    assertThat(secrets(documents(RepoPaths.examples().resolve("s3-model.yaml"))))
        .extracting(s -> s.getMetadata().getName()).containsExactly(s3.getCredentialsSecret());
  }

  @Test
  void mlflowExampleFollowsTheChampionAlias() throws IOException {
    var mlflow = modelDeployment("mlflow-alias.yaml").getSpec().getModel().getSource().getMlflow();
    assertThat(mlflow.getAlias()).isEqualTo("champion");
    assertThat(mlflow.getVersion()).isNull();
  }

  @Test
  void autoscaledExampleLeavesReplicasToTheAutoscaler() throws IOException {
    JsonNode spec = documents(RepoPaths.examples().resolve("autoscaled-model.yaml")).stream()
        .filter(ExamplesTest::isModelDeployment).findFirst().orElseThrow().get("spec");
    assertThat(spec.has("replicas")).as("spec.replicas, which the autoscaler writes").isFalse();
    var autoscaling = modelDeployment("autoscaled-model.yaml").getSpec().getAutoscaling();
    assertThat(autoscaling.getMinReplicas()).isGreaterThanOrEqualTo(2);
    assertThat(autoscaling.getMetric()).isEqualTo(io.modelship.operator.api.spec.AutoscalingSpec.IN_FLIGHT);
    assertThat(autoscaling.getTarget()).isPositive();
  }

  @Test
  void gpuExampleShowsEveryGpuServingKnob() throws IOException {
    var spec = modelDeployment("gpu-model.yaml").getSpec();
    assertThat(spec.getResources().getGpu().getCount()).isEqualTo(1);
    assertThat(spec.getResources().getGpu().getType()).isNotBlank();
    assertThat(spec.getScheduling().getTolerations()).isNotEmpty();
    assertThat(spec.getScheduling().getPriorityClassName()).isNotBlank();
    assertThat(spec.getServer().getBatching().getMaxBatchSize()).isGreaterThan(1);
    assertThat(spec.getServer().getWarmup().getIterations()).isPositive();
    assertThat(spec.getServer().getApiKeySecret()).isNotBlank();
  }

  // The checks above must be able to fail: each of these breaks an example the way a user might.

  @Test
  void aMisspelledSpecFieldIsRefused() throws IOException {
    ObjectNode doc = (ObjectNode) modelDeploymentDoc("s3-model.yaml");
    ((ObjectNode) doc.get("spec")).set("replica", ((ObjectNode) doc.get("spec")).remove("replicas"));
    assertThatThrownBy(() -> STRICT.treeToValue(doc, ModelDeployment.class))
        .isInstanceOf(UnrecognizedPropertyException.class).hasMessageContaining("replica");
    assertThat(SCHEMA.validateSpec(doc.get("spec"))).containsExactly("spec.replica: unknown field (the apiserver would drop it)");
  }

  @Test
  void aMisspelledFieldInsideAKubernetesTypeIsRefusedByTheSchema() throws IOException {
    // fabric8's Toleration keeps unknown fields, so only the schema check notices this one.
    ObjectNode doc = (ObjectNode) modelDeploymentDoc("gpu-model.yaml");
    ObjectNode toleration = (ObjectNode) doc.at("/spec/scheduling/tolerations/0");
    toleration.set("efect", toleration.remove("effect"));
    assertThat(SCHEMA.validateSpec(doc.get("spec")))
        .containsExactly("spec.scheduling.tolerations[0].efect: unknown field (the apiserver would drop it)");
  }

  @Test
  void valuesOutsideTheSchemaAreRefused() throws IOException {
    ObjectNode doc = (ObjectNode) modelDeploymentDoc("gpu-model.yaml");
    ((ObjectNode) doc.at("/spec/resources/gpu")).put("count", 0);
    ((ObjectNode) doc.at("/spec/server/batching")).put("maxDelay", "5 ms");
    assertThat(SCHEMA.validateSpec(doc.get("spec"))).containsExactlyInAnyOrder(
        "spec.resources.gpu.count: below the minimum 1.0",
        "spec.server.batching.maxDelay: '5 ms' does not match ^[0-9]+(ms|s)$");
  }

  @Test
  void aModelDeploymentWithoutItsSecretFailsTheOperatorsCheck() throws IOException {
    ModelDeployment mdep = modelDeployment("gpu-model.yaml");
    assertThat(validate(new SpecValidator(lookup(List.of())), mdep))
        .singleElement().asString().contains("reranker-api-key", "does not exist");
  }

  /** Everything the operator checks, as in a cluster that serves Gateway API. */
  private static List<String> validate(SpecValidator validator, ModelDeployment mdep) {
    var template = io.modelship.operator.revision.Revision.of(mdep, "model-server:test").template();
    return validator.validate(mdep, true, io.modelship.operator.resources.RevisionDeployment.reservedEnv(template));
  }

  private static ModelDeployment modelDeployment(String file) throws IOException {
    return STRICT.treeToValue(modelDeploymentDoc(file), ModelDeployment.class);
  }

  private static JsonNode modelDeploymentDoc(String file) throws IOException {
    return documents(RepoPaths.examples().resolve(file)).stream().filter(ExamplesTest::isModelDeployment)
        .findFirst().orElseThrow();
  }

  private static List<JsonNode> documents(Path file) throws IOException {
    try (var parser = YAML.getFactory().createParser(file.toFile())) {
      return YAML.readValues(parser, JsonNode.class).readAll().stream()
          .filter(d -> d != null && !d.isNull() && !d.isMissingNode())
          .toList();
    }
  }

  private static boolean isModelDeployment(JsonNode doc) {
    return CrdConstants.KIND.equals(doc.path("kind").asText())
        && CrdConstants.API_VERSION.equals(doc.path("apiVersion").asText());
  }

  private static List<Secret> secrets(List<JsonNode> docs) {
    return docs.stream()
        .filter(d -> "Secret".equals(d.path("kind").asText()))
        .map(d -> STRICT.convertValue(d, Secret.class))
        .toList();
  }

  private static java.util.function.BiFunction<String, String, Optional<Secret>> lookup(List<Secret> secrets) {
    return (ns, name) -> secrets.stream()
        .filter(s -> ns.equals(s.getMetadata().getNamespace()) && name.equals(s.getMetadata().getName()))
        .findFirst();
  }
}
