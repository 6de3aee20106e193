package io.modelship.operator.rollout;

import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.revision.ObservedRevision;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * What one reconcile sees, read-only: the spec, the status as last recorded, the live revisions as observed,
 * the user's commands and the time. Phase handlers decide from this alone.
 *
 * @param target the revision the spec asks for
 * @param stable the recorded stable revision, when its Deployment exists
 * @param canary the recorded canary revision, when its Deployment exists
 * @param targetObserved the target revision, when its Deployment exists
 * @param commands the control annotations present (promote, abort, retry)
 * @param analysis evaluates the gates; called only when an evaluation is due, since it scrapes pods
 * @param inPlace what an in-place rollout sees of the pods' versions
 */
public record RolloutView(
    ModelDeployment mdep,
    RolloutSettings settings,
    String target,
    ModelDeploymentStatus previous,
    Optional<ObservedRevision> stable,
    Optional<ObservedRevision> canary,
    Optional<ObservedRevision> targetObserved,
    Set<Command> commands,
    Instant now,
    Supplier<List<GateResultStatus>> analysis,
    InPlaceView inPlace) {

  /** Control annotations a user sets with kubectl annotate; each is removed once acted on. */
  public enum Command {
    PROMOTE("modelship.io/promote"),
    ABORT("modelship.io/abort"),
    RETRY("modelship.io/retry");

    public final String annotation;

    Command(String annotation) {
      this.annotation = annotation;
    }
  }

  public boolean has(Command command) {
    return commands.contains(command);
  }
}
