package io.modelship.operator.revision;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Quantity;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.ResourcesSpec;
import io.modelship.operator.testing.ModelDeployments;
import io.fabric8.kubernetes.client.utils.Serialization;
import org.junit.jupiter.api.Test;

class RevisionTest {
  private static final String IMAGE = "model-server:1";

  @Test
  void theSameSpecAlwaysNamesTheSameRevision() {
    var a = Revision.of(ModelDeployments.s3("m", "s3://b/m/1/"), IMAGE);
    var b = Revision.of(copy(ModelDeployments.s3("m", "s3://b/m/1/")), IMAGE);
    assertThat(a.hash()).isEqualTo(b.hash()).matches("[0-9a-f]{10}");
  }

  @Test
  void replicasAreNotPartOfARevision() {
    var mdep = ModelDeployments.s3("m", "s3://b/m/1/");
    String before = Revision.of(mdep, IMAGE).hash();
    mdep.getSpec().setReplicas(7);
    assertThat(Revision.of(mdep, IMAGE).hash()).isEqualTo(before);
  }

  @Test
  void sourcePodShapeAndImageEachMakeANewRevision() {
    var mdep = ModelDeployments.s3("m", "s3://b/m/1/");
    String original = Revision.of(mdep, IMAGE).hash();

    mdep.getSpec().getModel().getSource().getS3().setUri("s3://b/m/2/");
    String newSource = Revision.of(mdep, IMAGE).hash();
    var resources = new ResourcesSpec();
    resources.setMemory(new Quantity("2Gi"));
    mdep.getSpec().setResources(resources);
    String newShape = Revision.of(mdep, IMAGE).hash();
    String newImage = Revision.of(mdep, "model-server:2").hash();

    assertThat(java.util.List.of(original, newSource, newShape, newImage)).doesNotHaveDuplicates();
  }

  @Test
  void onlyTheSourceAndDigestMayChangeInPlace() {
    var mdep = ModelDeployments.s3("m", "s3://b/m/1/");
    mdep.getSpec().getModel().getSource().getS3().setCredentialsSecret("creds");
    var first = Revision.of(mdep, IMAGE);
    // A Revision reads the spec it was made from: take the key now, before the spec changes.
    String firstKey = first.inPlaceKey();
    String firstHash = first.hash();
    mdep.getSpec().getModel().getSource().getS3().setUri("s3://b/m/2/");
    mdep.getSpec().getModel().getSource().getS3().setEndpoint("http://minio:9000");
    mdep.getSpec().getModel().setSha256("a".repeat(64));
    var second = Revision.of(mdep, IMAGE);
    assertThat(second.hash()).isNotEqualTo(firstHash);
    assertThat(second.inPlaceKey()).isEqualTo(firstKey);
    assertThat(second.servedVersion()).as("S3 has no registry version: the revision names it").isEqualTo(second.hash());

    assertThat(Revision.of(mdep, "model-server:2").inPlaceKey()).as("another image").isNotEqualTo(firstKey);
    mdep.getSpec().getModel().getSource().getS3().setCredentialsSecret("other-creds");
    assertThat(Revision.of(mdep, IMAGE).inPlaceKey()).as("the pods fetch with their own Secret")
        .isNotEqualTo(firstKey);
    mdep.getSpec().getModel().getSource().getS3().setCredentialsSecret("creds");
    mdep.getSpec().getModel().setName("other");
    assertThat(Revision.of(mdep, IMAGE).inPlaceKey()).as("the name served").isNotEqualTo(firstKey);

    var mlflow = ModelDeployments.mlflowAlias("m", "http://mlflow:5000", "champion", "30s");
    mlflow.getSpec().getModel().getSource().getMlflow().setAlias(null);
    mlflow.getSpec().getModel().getSource().getMlflow().setVersion("7");
    assertThat(Revision.of(mlflow, IMAGE).servedVersion()).as("the registry's version").isEqualTo("7");
  }

  @Test
  void objectNamesJoinTheModelDeploymentAndTheRevision() {
    var mdep = ModelDeployments.s3("sentiment", "s3://b/m/1/");
    var revision = Revision.of(mdep, IMAGE);
    assertThat(revision.objectName(mdep)).isEqualTo("sentiment-" + revision.hash());
  }

  private static ModelDeployment copy(ModelDeployment mdep) {
    return Serialization.unmarshal(Serialization.asJson(mdep), ModelDeployment.class);
  }
}
