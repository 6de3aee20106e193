package io.modelship.operator.api;

/** The API group, version and the labels/annotations every owned object carries: one place, no literals elsewhere. */
public final class CrdConstants {
  public static final String GROUP = "modelship.io";
  public static final String VERSION = "v1alpha1";
  public static final String API_VERSION = GROUP + "/" + VERSION;
  public static final String KIND = "ModelDeployment";

  public static final String LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY = "modelship";
  public static final String LABEL_NAME = "app.kubernetes.io/name";
  public static final String LABEL_INSTANCE = "app.kubernetes.io/instance";
  public static final String LABEL_COMPONENT = "app.kubernetes.io/component";
  /** The ModelDeployment an object belongs to; the client Service selects on it. */
  public static final String LABEL_DEPLOYMENT = GROUP + "/deployment";
  /** The revision an object belongs to; per-revision Services select on it. */
  public static final String LABEL_REVISION = GROUP + "/revision";
  /** Hash of the desired object we last applied: equal hash means nothing to write. */
  public static final String ANNOTATION_DESIRED_HASH = GROUP + "/desired-hash";

  private CrdConstants() {}
}
