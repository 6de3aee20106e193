package io.modelship.operator.rollout;

import io.modelship.operator.inplace.InPlaceControl.Observation;
import java.util.Map;
import java.util.Optional;

/**
 * What an in-place rollout needs to see in one pass: whether the target can run inside the current pods, the
 * version name the servers give it, and what each of those pods reported holding (only looked at while pods hold
 * versions in place).
 *
 * @param targetKey the target revision's {@code Revision#inPlaceKey()}
 * @param targetVersion the target revision's served version, its name in the pods' placements and metrics
 * @param hostKey the in-place key of the Deployment whose pods would hold it, when known
 * @param pods each host pod's report, by pod name; empty when nobody asked
 */
public record InPlaceView(String targetKey, String targetVersion, Optional<String> hostKey,
    Map<String, Observation> pods) {

  /** Nothing in place to see: the target runs, if at all, in pods of its own. */
  public static InPlaceView none(String targetKey, String targetVersion) {
    return new InPlaceView(targetKey, targetVersion, Optional.empty(), Map.of());
  }
}
