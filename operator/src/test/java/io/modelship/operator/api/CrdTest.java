package io.modelship.operator.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.modelship.operator.testing.OperatorHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CRD in crds/ is what users install: it must match the Java classes and be one an apiserver accepts. */
class CrdTest {

  @Test
  void committedCrdIsWhatTheJavaClassesGenerate() throws Exception {
    Path generated = Path.of(System.getProperty("modelship.crd.generated",
        "target/classes/META-INF/fabric8/modeldeployments.modelship.io-v1.yml"));
    Path committed = OperatorHarness.committedCrd();
    assertThat(Files.readString(committed))
        .as("crds/ is stale: run `./mvnw -pl operator -Pupdate-crds process-test-classes` and commit crds/")
        .isEqualTo(io.modelship.operator.packaging.UpdateCrds.committedForm(Files.readString(generated)));
  }

  @Test
  void crdHasTheNamesColumnsAndStatusSubresourceUsersRelyOn() throws Exception {
    var crd = committed();
    assertThat(crd.getSpec().getGroup()).isEqualTo(CrdConstants.GROUP);
    assertThat(crd.getSpec().getNames().getShortNames()).containsExactly("mdep");
    assertThat(crd.getSpec().getScope()).isEqualTo("Namespaced");
    var version = crd.getSpec().getVersions().get(0);
    assertThat(version.getName()).isEqualTo(CrdConstants.VERSION);
    assertThat(version.getSubresources().getStatus()).isNotNull();
    // In this order, as kubectl get mdep prints them; -o wide adds Digest and Message.
    assertThat(version.getAdditionalPrinterColumns()).extracting("name")
        .containsExactly("Phase", "Stable", "Canary", "Weight", "Ready", "Replicas", "Age", "Digest", "Message");
  }

  @Test
  void schemaIsStructuralAndEverySpecFieldIsDescribed() throws Exception {
    JSONSchemaProps spec = committed().getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema()
        .getProperties().get("spec");
    List<String> untyped = new ArrayList<>();
    List<String> undescribed = new ArrayList<>();
    walk("spec", spec, untyped, undescribed);
    assertThat(untyped).as("properties without a type (not structural)").isEmpty();
    assertThat(undescribed).as("spec fields without a description (kubectl explain shows nothing)").isEmpty();
  }

  @Test
  void oneOfRulesAreExpressedAsCel() throws Exception {
    var source = committed().getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema()
        .getProperties().get("spec").getProperties().get("model").getProperties().get("source");
    assertThat(source.getXKubernetesValidations()).extracting("rule")
        .containsExactly("has(self.s3) != has(self.mlflow)");
    assertThat(source.getProperties().get("mlflow").getXKubernetesValidations()).extracting("rule")
        .containsExactly("has(self.alias) != has(self.version)");
  }

  private static void walk(String path, JSONSchemaProps schema, List<String> untyped, List<String> undescribed) {
    boolean intOrString = Boolean.TRUE.equals(schema.getXKubernetesIntOrString());
    if (schema.getType() == null && !intOrString && !Boolean.TRUE.equals(schema.getXKubernetesPreserveUnknownFields())) {
      untyped.add(path);
    }
    Map<String, JSONSchemaProps> properties = schema.getProperties();
    if (properties == null) {
      if (schema.getItems() != null && schema.getItems().getSchema() != null) {
        walk(path + "[]", schema.getItems().getSchema(), untyped, new ArrayList<>());
      }
      return;
    }
    for (var e : properties.entrySet()) {
      String child = path + "." + e.getKey();
      // Kubernetes' own types (tolerations, affinity, env) come without descriptions; ours must have them.
      boolean ours = !child.startsWith("spec.scheduling.affinity.") && !child.contains("[]")
          && !child.startsWith("spec.scheduling.tolerations") && !child.startsWith("spec.server.env");
      if (ours && e.getValue().getDescription() == null) {
        undescribed.add(child);
      }
      walk(child, e.getValue(), untyped, ours ? undescribed : new ArrayList<>());
    }
  }

  private static CustomResourceDefinition committed() throws Exception {
    try (var in = Files.newInputStream(OperatorHarness.committedCrd())) {
      return Serialization.unmarshal(in, CustomResourceDefinition.class);
    }
  }
}
