package io.modelship.operator.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import io.modelship.operator.api.status.HistoryEntry;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The operator's rollout metrics, fed once per reconcile with the status just recorded: where each
 * ModelDeployment is (phase, canary weight), what its gates said, how long rollouts and steps took, and why
 * rollouts ended. It only observes decisions; it never influences them.
 */
public final class RolloutMetrics {
  private final MeterRegistry registry;
  /** Latest value per gauge key; gauges read these, so a value is replaced rather than re-registered. */
  private final Map<Tags, AtomicReference<Double>> gauges = new ConcurrentHashMap<>();

  public RolloutMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  public void record(ModelDeployment mdep, ModelDeploymentStatus previous, ModelDeploymentStatus status,
      List<GateResultStatus> evaluated, Instant now) {
    Tags who = Tags.of("namespace", mdep.getMetadata().getNamespace(), "name", mdep.getMetadata().getName());
    for (Phase phase : Phase.values()) {
      set("modelship_rollout_phase", who.and("phase", phase.name()), phase == status.getPhase() ? 1 : 0,
          "1 for the phase a ModelDeployment is in, 0 for the others");
    }
    var canary = status.getCanary();
    set("modelship_rollout_canary_weight_percent", who, canary != null && canary.getWeight() != null ? canary.getWeight() : 0,
        "Traffic share of the canary revision, as observed");
    for (GateResultStatus gate : evaluated) {
      Tags g = who.and("gate", gate.getGate());
      if (gate.getValue() != null) {
        set("modelship_rollout_gate_value", g, gate.getValue(), "Latest measured value of a canary gate");
      }
      if (gate.getThreshold() != null) {
        set("modelship_rollout_gate_threshold", g, gate.getThreshold(), "Threshold a canary gate compares against");
      }
      Counter.builder("modelship_rollout_gate_evaluations")
          .description("Canary gate evaluations by verdict")
          .tags(g.and("verdict", Objects.requireNonNullElse(gate.getVerdict(), Verdict.Inconclusive).name()))
          .register(registry).increment();
    }
    if (canary != null && previous.getCanary() != null && canary.getRevision().equals(previous.getCanary().getRevision())
        && !Objects.equals(canary.getStep(), previous.getCanary().getStep()) && previous.getCanary().getStepStartedAt() != null) {
      Timer.builder("modelship_rollout_step_duration")
          .description("Time a canary spent on a step before moving on")
          .tags(who).register(registry)
          .record(Duration.between(Instant.parse(previous.getCanary().getStepStartedAt()), now));
    }
    HistoryEntry ended = newest(status, previous);
    if (ended != null) {
      var started = previous.getCanary() != null && previous.getCanary().getStartedAt() != null
          ? Instant.parse(previous.getCanary().getStartedAt()) : null;
      if (started != null) {
        Timer.builder("modelship_rollout_duration")
            .description("Time from a canary's start to the end of its rollout, by outcome")
            .tags(who.and("outcome", ended.getOutcome().name())).register(registry)
            .record(Duration.between(started, now));
      }
      if (ended.getOutcome() != HistoryEntry.Outcome.Promoted) {
        Counter.builder("modelship_rollbacks")
            .description("Rollouts that ended without promotion, by reason")
            .tags(who.and("reason", reasonOf(ended)).and("outcome", ended.getOutcome().name()))
            .register(registry).increment();
      }
    }
  }

  /** The history entry this pass added, if any. */
  private static HistoryEntry newest(ModelDeploymentStatus status, ModelDeploymentStatus previous) {
    if (status.getHistory() == null || status.getHistory().isEmpty()) {
      return null;
    }
    var head = status.getHistory().get(0);
    var before = previous.getHistory() == null || previous.getHistory().isEmpty() ? null : previous.getHistory().get(0);
    return before != null && Objects.equals(head.getAt(), before.getAt()) && Objects.equals(head.getRevision(), before.getRevision())
        ? null : head;
  }

  /** "GateFailed: 2 failed evaluations ..." → "GateFailed": a bounded label. */
  private static String reasonOf(HistoryEntry entry) {
    String reason = entry.getReason() == null ? "Unknown" : entry.getReason();
    int colon = reason.indexOf(':');
    return colon > 0 ? reason.substring(0, colon) : reason;
  }

  private void set(String name, Tags tags, double value, String description) {
    Tags key = tags.and("__name", name);
    gauges.computeIfAbsent(key, k -> {
      var holder = new AtomicReference<>(0.0);
      Gauge.builder(name, holder, AtomicReference::get).description(description).tags(tags).register(registry);
      return holder;
    }).set(value);
  }
}
