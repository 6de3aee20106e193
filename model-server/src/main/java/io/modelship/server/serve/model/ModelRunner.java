package io.modelship.server.serve.model;

import java.util.List;

/**
 * Runs a loaded model on inputs already checked against its {@link Signature} and given in declaration order.
 * A runner is used by one thread at a time; each batch worker owns its own.
 */
public interface ModelRunner extends AutoCloseable {

  /** Returns every output the signature lists, in declaration order. */
  List<Tensor> run(List<Tensor> inputs);

  @Override
  void close();
}
