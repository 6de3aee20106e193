package io.modelship.operator.testing;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.ModelDeploymentSpec;
import io.modelship.operator.api.spec.ModelSource;
import io.modelship.operator.api.spec.ModelSpec;
import io.modelship.operator.api.spec.S3Source;

/** Small ModelDeployments for tests, valid unless a test breaks them on purpose. */
public final class ModelDeployments {
  private ModelDeployments() {}

  public static ModelDeployment s3(String name, String uri) {
    var s3 = new S3Source();
    s3.setUri(uri);
    var source = new ModelSource();
    source.setS3(s3);
    var model = new ModelSpec();
    model.setName(name);
    model.setSource(source);
    var spec = new ModelDeploymentSpec();
    spec.setModel(model);
    spec.setReplicas(2);
    var mdep = new ModelDeployment();
    mdep.setMetadata(new ObjectMetaBuilder().withName(name).build());
    mdep.setSpec(spec);
    return mdep;
  }
}
