package io.modelship.server.serve.registry;

/** Where one model version is in its life; only {@code READY} serves inference. Names follow KServe's. */
public enum ModelState {
  LOADING,
  WARMING_UP,
  READY,
  FAILED_TO_LOAD,
  UNLOADING
}
