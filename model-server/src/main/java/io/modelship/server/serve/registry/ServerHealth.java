package io.modelship.server.serve.registry;

import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the process can still be trusted to answer. An {@link Error} such as {@code OutOfMemoryError} thrown
 * while a request was being served leaves the JVM in a state nobody can vouch for (a worker thread may be gone,
 * a lock half taken): from then on the server reports neither ready nor live, so Kubernetes stops sending it
 * traffic and restarts it, while every request already accepted still gets an answer.
 */
public final class ServerHealth {
  private static final Logger LOG = LoggerFactory.getLogger(ServerHealth.class);
  private final AtomicReference<String> broken = new AtomicReference<>();

  /** Records that {@code error} struck while {@code doing}; the first such error is the one reported. */
  public void fatal(String doing, Throwable error) {
    String why = error.getClass().getSimpleName() + " while " + doing;
    if (broken.compareAndSet(null, why)) {
      LOG.error("the server can no longer be trusted to answer ({}): readiness and liveness are false from now on;"
          + " requests already accepted are still answered", why, error);
    }
  }

  /** Why the server is broken, or empty while it is healthy. */
  public Optional<String> broken() {
    return Optional.ofNullable(broken.get());
  }

  public boolean healthy() {
    return broken.get() == null;
  }

  /** Errors that mean the JVM itself is in trouble, as opposed to one request failing. */
  public static boolean isFatal(Throwable error) {
    return error instanceof VirtualMachineError || error instanceof LinkageError;
  }
}
