package io.modelship.operator.api;

import io.fabric8.crdv2.generator.v1.SchemaCustomizer;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn.Type;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;
import io.modelship.operator.api.spec.ModelDeploymentSpec;
import io.modelship.operator.api.status.ModelDeploymentStatus;

/** One model served in production: where its artifact comes from, how its pods look, and how it rolls out. */
// The generator takes descriptions from properties only; the top of the schema (what kubectl explain shows first)
// gets its own through a merge patch.
@SchemaCustomizer(value = SchemaCustomizer.MergePatchCustomizer.class, input = "{\"description\": \"A model served in"
    + " production by Modelship: the versioned artifact it comes from (S3 or an MLflow Model Registry), the"
    + " model-server pods that serve it, and how a new version rolls out beside the stable one (canary steps, health"
    + " gates, automatic promotion or rollback).\"}")
@Group(CrdConstants.GROUP)
@Version(CrdConstants.VERSION)
@Kind(CrdConstants.KIND)
@Plural("modeldeployments")
@Singular("modeldeployment")
@ShortNames("mdep")
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = Type.STRING)
@AdditionalPrinterColumn(name = "Stable", jsonPath = ".status.stable.version", type = Type.STRING)
@AdditionalPrinterColumn(name = "Canary", jsonPath = ".status.canary.version", type = Type.STRING)
@AdditionalPrinterColumn(name = "Weight", jsonPath = ".status.canary.weight", type = Type.INTEGER)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = Type.STRING)
@AdditionalPrinterColumn(name = "Replicas", jsonPath = ".status.stable.readyReplicas", type = Type.INTEGER)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = Type.DATE)
@AdditionalPrinterColumn(name = "Digest", jsonPath = ".status.stable.digest", type = Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Message", jsonPath = ".status.conditions[?(@.type==\"Ready\")].message", type = Type.STRING, priority = 1)
public class ModelDeployment extends CustomResource<ModelDeploymentSpec, ModelDeploymentStatus>
    implements Namespaced {

  // Overridden only to describe spec and status in the CRD, so kubectl explain says what they are.
  @Override
  @JsonPropertyDescription("What to serve and how: the model and its source, pods and resources, the model server's"
      + " settings, and how a new revision rolls out.")
  public ModelDeploymentSpec getSpec() {
    return super.getSpec();
  }

  @Override
  @JsonPropertyDescription("What the operator observed and decided: the phase, the stable and canary revisions, how"
      + " past rollouts ended, and conditions per the Kubernetes API conventions.")
  public ModelDeploymentStatus getStatus() {
    return super.getStatus();
  }
}
