package io.modelship.operator.resources;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.modelship.operator.api.ModelDeployment;
import java.util.Map;

/**
 * What the model-server pods of a ModelDeployment should hold in place (docs/pod-contract.md), in a ConfigMap
 * {@code <name>-placement}: the body of {@code PUT /admin/versions}. The operator sends it to every pod over
 * {@code /admin/versions}, which takes effect in seconds; the ConfigMap is for a pod that starts later (a restart
 * mid-rollout), which reads it before it reports ready. It exists only while a revision is served in place.
 */
public final class PlacementConfigMap {
  public static final String KEY = "placement.json";
  static final String VOLUME = "placement";
  static final String DIR = "/etc/modelship/placement";
  static final String ENV = "MODELSHIP_PLACEMENT_FILE";

  private PlacementConfigMap() {}

  public static String name(ModelDeployment mdep) {
    return mdep.getMetadata().getName() + "-placement";
  }

  public static ConfigMap desired(ModelDeployment mdep, String placementJson) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(name(mdep))
        .withNamespace(mdep.getMetadata().getNamespace())
        .withLabels(Labels.forDeployment(mdep))
        .withOwnerReferences(Labels.ownerReference(mdep))
        .endMetadata()
        .withData(Map.of(KEY, placementJson))
        .build();
  }

  /** Optional: pods of a ModelDeployment that serves nothing in place start without it. */
  static Volume volume(ModelDeployment mdep) {
    return new VolumeBuilder()
        .withName(VOLUME)
        .withNewConfigMap()
        .withName(name(mdep))
        .withOptional(true)
        .withDefaultMode(0444)
        .endConfigMap()
        .build();
  }
}
