package io.modelship.operator.revision;

/**
 * The names the operator and the model server agree on (docs/pod-contract.md): the containers of a revision's
 * pod and the one port they serve on. Everything that builds pods or reads them back uses these.
 */
public final class PodContract {
  /** The init container that downloads and verifies the artifact. */
  public static final String FETCH_CONTAINER = "fetch";
  /** The container that serves the model. */
  public static final String SERVE_CONTAINER = "model-server";
  public static final String HTTP_PORT_NAME = "http";
  public static final int HTTP_PORT = 8080;

  private PodContract() {}
}
