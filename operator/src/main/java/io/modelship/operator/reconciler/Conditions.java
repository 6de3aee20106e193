package io.modelship.operator.reconciler;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Builds status conditions per the Kubernetes API conventions: type, status True/False/Unknown, a CamelCase
 * reason, a message a person can act on, observedGeneration, and a lastTransitionTime that moves only when
 * the status flips (a new reason or message alone keeps it).
 */
public final class Conditions {
  public static final String READY = "Ready";
  public static final String ARTIFACT_RESOLVED = "ArtifactResolved";
  public static final String PROGRESSING = "Progressing";
  public static final String DEGRADED = "Degraded";
  public static final String CANARY_HEALTHY = "CanaryHealthy";
  public static final String TRAFFIC_SPLIT_EXACT = "TrafficSplitExact";
  public static final String AUTOSCALING = "Autoscaling";

  public static final String TRUE = "True";
  public static final String FALSE = "False";
  public static final String UNKNOWN = "Unknown";

  private final List<Condition> previous;
  private final List<Condition> next = new ArrayList<>();
  private final long generation;
  private final Clock clock;

  public Conditions(List<Condition> previous, long generation, Clock clock) {
    this.previous = previous == null ? List.of() : previous;
    this.generation = generation;
    this.clock = clock;
  }

  public Conditions set(String type, String status, String reason, String message) {
    String transition =
        find(previous, type)
            .filter(old -> status.equals(old.getStatus()) && old.getLastTransitionTime() != null)
            .map(Condition::getLastTransitionTime)
            .orElseGet(() -> Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString());
    next.removeIf(c -> c.getType().equals(type));
    next.add(
        new ConditionBuilder()
            .withType(type)
            .withStatus(status)
            .withReason(reason)
            .withMessage(message)
            .withObservedGeneration(generation)
            .withLastTransitionTime(transition)
            .build());
    return this;
  }

  /** Takes conditions already built elsewhere as they are (a later {@link #set} of the same type replaces one). */
  public Conditions keep(List<Condition> built) {
    if (built != null) {
      built.forEach(c -> {
        next.removeIf(n -> n.getType().equals(c.getType()));
        next.add(c);
      });
    }
    return this;
  }

  public List<Condition> build() {
    return List.copyOf(next);
  }

  public static Optional<Condition> find(List<Condition> conditions, String type) {
    return conditions == null
        ? Optional.empty()
        : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  /** True when the condition exists now but did not exist before with the same status and reason. */
  public static boolean changed(List<Condition> before, Condition now) {
    return find(before, now.getType())
        .map(old -> !now.getStatus().equals(old.getStatus()) || !now.getReason().equals(old.getReason()))
        .orElse(true);
  }
}
