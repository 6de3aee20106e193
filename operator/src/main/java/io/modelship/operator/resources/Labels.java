package io.modelship.operator.resources;

import static io.modelship.operator.api.CrdConstants.LABEL_COMPONENT;
import static io.modelship.operator.api.CrdConstants.LABEL_DEPLOYMENT;
import static io.modelship.operator.api.CrdConstants.LABEL_INSTANCE;
import static io.modelship.operator.api.CrdConstants.LABEL_MANAGED_BY;
import static io.modelship.operator.api.CrdConstants.LABEL_NAME;
import static io.modelship.operator.api.CrdConstants.LABEL_REVISION;
import static io.modelship.operator.api.CrdConstants.MANAGED_BY;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.modelship.operator.api.ModelDeployment;
import java.util.LinkedHashMap;
import java.util.Map;

/** The labels, selectors and owner reference shared by every object a ModelDeployment owns. */
public final class Labels {
  /** Informers of owned kinds only see objects carrying this, so they never cache the whole cluster. */
  public static final String MANAGED_SELECTOR = LABEL_MANAGED_BY + "=" + MANAGED_BY;

  private Labels() {}

  public static Map<String, String> forDeployment(ModelDeployment mdep) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(LABEL_NAME, "modelship-model-server");
    labels.put(LABEL_INSTANCE, mdep.getMetadata().getName());
    labels.put(LABEL_COMPONENT, "model-server");
    labels.put(LABEL_MANAGED_BY, MANAGED_BY);
    labels.put(LABEL_DEPLOYMENT, mdep.getMetadata().getName());
    return labels;
  }

  public static Map<String, String> forRevision(ModelDeployment mdep, String revision) {
    Map<String, String> labels = forDeployment(mdep);
    labels.put(LABEL_REVISION, revision);
    return labels;
  }

  /** Selects every pod of a ModelDeployment, whatever its revision: the client Service uses it. */
  public static Map<String, String> deploymentSelector(ModelDeployment mdep) {
    return Map.of(LABEL_DEPLOYMENT, mdep.getMetadata().getName());
  }

  /** A selector as a string, the form a scale subresource reports it in: {@code key=value,key=value}. */
  public static String selectorString(Map<String, String> selector) {
    return selector.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
        .sorted().collect(java.util.stream.Collectors.joining(","));
  }

  public static Map<String, String> revisionSelector(ModelDeployment mdep, String revision) {
    return Map.of(LABEL_DEPLOYMENT, mdep.getMetadata().getName(), LABEL_REVISION, revision);
  }

  /**
   * The metadata of an object the operator keeps for a ModelDeployment: in its namespace, with {@code labels}, owned
   * by it (so it goes with it).
   */
  public static io.fabric8.kubernetes.api.model.ObjectMeta owned(ModelDeployment mdep, String name,
      Map<String, String> labels) {
    return new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
        .withName(name)
        .withNamespace(mdep.getMetadata().getNamespace())
        .withLabels(labels)
        .withOwnerReferences(ownerReference(mdep))
        .build();
  }

  /** Controller owner reference: garbage collection removes owned objects with their ModelDeployment. */
  public static OwnerReference ownerReference(ModelDeployment mdep) {
    return new OwnerReferenceBuilder()
        .withApiVersion(mdep.getApiVersion())
        .withKind(mdep.getKind())
        .withName(mdep.getMetadata().getName())
        .withUid(mdep.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }
}
