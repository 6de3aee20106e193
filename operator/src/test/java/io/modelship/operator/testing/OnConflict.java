package io.modelship.operator.testing;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.function.Supplier;

/**
 * A test's read-change-write of an object the operator writes too (status moves a ModelDeployment's
 * resourceVersion; the leader renews its Lease): a 409 Conflict is normal, so read again and retry, as kubectl does.
 */
public final class OnConflict {
  private static final int ATTEMPTS = 10;

  private OnConflict() {}

  public static <T> T retry(Supplier<T> readChangeWrite) {
    for (int attempt = 1; ; attempt++) {
      try {
        return readChangeWrite.get();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == ATTEMPTS) {
          throw e;
        }
      }
    }
  }
}
