package io.modelship.operator.rollout;

import io.modelship.operator.api.status.Phase;
import java.util.EnumMap;
import java.util.Map;

/** Which handler decides in which phase: the whole state machine at a glance. */
public final class PhaseHandlers {
  private static final Map<Phase, PhaseHandler> HANDLERS = new EnumMap<>(Phase.class);

  static {
    var steady = new SteadyHandler();
    HANDLERS.put(Phase.Pending, steady);
    HANDLERS.put(Phase.Stable, steady);
    HANDLERS.put(Phase.Degraded, steady);
    HANDLERS.put(Phase.Failed, steady);
    var progressing = new ProgressingHandler();
    HANDLERS.put(Phase.Progressing, progressing);
    HANDLERS.put(Phase.Paused, progressing);
    HANDLERS.put(Phase.Promoting, new PromotingHandler());
    HANDLERS.put(Phase.RollingBack, new RollingBackHandler());
  }

  /** A canary that runs inside the stable revision's pods (spec.rollout.strategy inPlace). */
  private static final PhaseHandler IN_PLACE = new InPlaceHandler();

  private PhaseHandlers() {}

  /** Decides the next step. A phase with a canary but no canary recorded is treated as steady. */
  public static Transition next(RolloutView view) {
    Phase phase = view.previous().getPhase() == null ? Phase.Pending : view.previous().getPhase();
    boolean needsCanary = phase == Phase.Progressing || phase == Phase.Paused || phase == Phase.Promoting;
    boolean needsStable = needsCanary || phase == Phase.RollingBack;
    if ((needsCanary && view.previous().getCanary() == null) || (needsStable && view.previous().getStable() == null)) {
      phase = Phase.Pending;
    }
    if (needsCanary && view.previous().getCanary().getHost() != null) {
      return IN_PLACE.next(view);
    }
    return HANDLERS.get(phase).next(view);
  }
}
