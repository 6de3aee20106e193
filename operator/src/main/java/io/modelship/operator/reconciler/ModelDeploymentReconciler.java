package io.modelship.operator.reconciler;

import static io.modelship.operator.api.CrdConstants.LABEL_DEPLOYMENT;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.filter.OnUpdateFilter;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.modelship.operator.OperatorConfig;
import io.modelship.operator.analysis.AnalysisRequest;
import io.modelship.operator.analysis.CanaryAnalysis;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.GateResultStatus;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.events.EventRecorder;
import io.modelship.operator.inplace.InPlaceControl;
import io.modelship.operator.metrics.RolloutMetrics;
import io.modelship.operator.resources.Labels;
import io.modelship.operator.resources.PodAutoscaler;
import io.modelship.operator.resources.PodIngressPolicy;
import io.modelship.operator.resources.RevisionDeployment;
import io.modelship.operator.revision.ObservedRevision;
import io.modelship.operator.revision.Revision;
import io.modelship.operator.rollout.InPlaceView;
import io.modelship.operator.rollout.PhaseHandlers;
import io.modelship.operator.rollout.RolloutSettings;
import io.modelship.operator.rollout.RolloutView;
import io.modelship.operator.rollout.Transition;
import io.modelship.operator.shadow.ShadowControl;
import io.modelship.operator.source.MlflowRegistry;
import io.modelship.operator.source.RegistryWriteBack;
import io.modelship.operator.source.SourceTracker;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a ModelDeployment into live revisions, one pass at a time, in five steps each owned by one class:
 * observe the revisions ({@link RevisionObserver}), validate the spec ({@link SpecValidator}, and the API
 * server's own dry run of a new revision), let the current phase's handler decide ({@link PhaseHandlers}), record
 * the decision ({@link StatusAggregator}, {@link StatusRecorder}), then make the cluster match it
 * ({@link Actuator}, and {@link VersionPlacer} for versions held in place). Because the cluster is shaped from recorded status alone, an operator restarted at any
 * moment resumes where it was; a pass that changes nothing writes nothing.
 */
@ControllerConfiguration(name = ModelDeploymentReconciler.NAME, generationAwareEventProcessing = false)
public class ModelDeploymentReconciler implements Reconciler<ModelDeployment> {
  public static final String NAME = "modeldeployment";
  private static final Logger log = LoggerFactory.getLogger(ModelDeploymentReconciler.class);

  private final OperatorConfig config;
  private final Clock clock;
  private final CanaryAnalysis analysis;
  private final RolloutMetrics metrics;
  private final StatusAggregator statuses;
  private final MlflowRegistry registry = new MlflowRegistry();
  private final RegistryWriteBack writeBack = new RegistryWriteBack(registry);
  private final ShadowControl shadows;
  private final VersionPlacer placer;
  /** Where the operator's own pods are, for the NetworkPolicy that must let it in. */
  private final PodIngressPolicy.Operator operatorPeer;
  private final AtomicLong reconciliations = new AtomicLong();
  /** Whether the Gateway API's HTTPRoute kind existed when the informers started (so we can watch our routes). */
  private final AtomicBoolean gatewayApiInstalled = new AtomicBoolean();

  public ModelDeploymentReconciler(OperatorConfig config, Clock clock, CanaryAnalysis analysis, RolloutMetrics metrics) {
    this.config = config;
    this.clock = clock;
    this.analysis = analysis;
    this.metrics = metrics;
    this.statuses = new StatusAggregator(clock);
    this.shadows = new ShadowControl(config.modelServerPort());
    this.placer = new VersionPlacer(new InPlaceControl(config.modelServerPort()));
    this.operatorPeer = new PodIngressPolicy.Operator(config.leaseNamespace(), config.podLabels());
  }

  @Override
  public List<EventSource<?, ModelDeployment>> prepareEventSources(EventSourceContext<ModelDeployment> context) {
    List<EventSource<?, ModelDeployment>> sources = new ArrayList<>();
    // An informer on a kind the cluster does not serve would keep the operator from starting, and Gateway API is
    // optional: watch HTTPRoutes only where they exist.
    gatewayApiInstalled.set(crdInstalled(context.getClient(), SpecValidator.HTTPROUTE_CRD));
    if (gatewayApiInstalled.get()) {
      sources.add(ownedInformer(HTTPRoute.class, context));
    }
    sources.addAll(List.of(
        ownedInformer(Deployment.class, context),
        ownedInformer(Service.class, context),
        ownedInformer(ConfigMap.class, context),
        ownedInformer(PodDisruptionBudget.class, context),
        ownedInformer(NetworkPolicy.class, context),
        // The autoscaler's controller rewrites its status with every metric it reads: only a change of its spec,
        // of the count it asks for or of whether it can scale matters here.
        ownedInformer(HorizontalPodAutoscaler.class, context, PodAutoscaler::changed),
        // Pods are owned by ReplicaSets, not by us: map them back through our label.
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Pod.class, ModelDeployment.class)
                .withLabelSelector(Labels.MANAGED_SELECTOR)
                .withItemStore(LeanCache.store())
                .withSecondaryToPrimaryMapper(
                    pod -> {
                      String owner = pod.getMetadata().getLabels().get(LABEL_DEPLOYMENT);
                      return owner == null
                          ? Set.of()
                          : Set.of(new ResourceID(owner, pod.getMetadata().getNamespace()));
                    })
                .build(),
            context)));
    return sources;
  }

  private static Optional<HorizontalPodAutoscaler> autoscaler(Context<ModelDeployment> context, ModelDeployment mdep) {
    return RevisionObserver.owned(context, HorizontalPodAutoscaler.class, mdep.getMetadata().getName());
  }

  private static boolean crdInstalled(KubernetesClient client, String name) {
    try {
      return client.apiextensions().v1().customResourceDefinitions().withName(name).get() != null;
    } catch (KubernetesClientException e) {
      log.warn("cannot tell whether {} is installed ({}); the gatewayAPI traffic mode is off", name, e.getMessage());
      return false;
    }
  }

  private static <R extends HasMetadata> InformerEventSource<R, ModelDeployment> ownedInformer(
      Class<R> type, EventSourceContext<ModelDeployment> context) {
    return ownedInformer(type, context, (now, before) -> true);
  }

  private static <R extends HasMetadata> InformerEventSource<R, ModelDeployment> ownedInformer(
      Class<R> type, EventSourceContext<ModelDeployment> context, OnUpdateFilter<R> updates) {
    return new InformerEventSource<>(
        InformerEventSourceConfiguration.from(type, ModelDeployment.class)
            .withLabelSelector(Labels.MANAGED_SELECTOR)
            .withItemStore(LeanCache.store())
            .withOnUpdateFilter(updates)
            .build(),
        context);
  }

  @Override
  public UpdateControl<ModelDeployment> reconcile(ModelDeployment mdep, Context<ModelDeployment> context) {
    try {
      return reconcileOnce(mdep, context);
    } finally {
      reconciliations.incrementAndGet();
    }
  }

  private UpdateControl<ModelDeployment> reconcileOnce(ModelDeployment mdep, Context<ModelDeployment> context) {
    var client = context.getClient();
    var events = new EventRecorder(client, clock);
    Instant now = Instant.now(clock).truncatedTo(ChronoUnit.SECONDS);
    ModelDeploymentStatus previous = mdep.getStatus() != null ? mdep.getStatus() : new ModelDeploymentStatus();

    // 1. Observe: the revisions, and what a moving source (an MLflow alias) points to now, pinned to a version.
    Map<String, ObservedRevision> observed = RevisionObserver.revisions(context);
    RevisionObserver.hosted(observed, previous);
    Optional<ObservedRevision> stable =
        Optional.ofNullable(previous.getStable()).map(s -> observed.get(s.getRevision()));
    var tracker = new SourceTracker(registry, secrets(client));
    SourceTracker.Pin pin = tracker.pin(mdep, previous, now);
    // Every later step sees the pinned spec; status and Events still go to the object as the user wrote it.
    ModelDeployment pinned = pin.effective();

    // 2. Validate: nothing is deployed from a spec that cannot work; whatever runs keeps running as it is.
    Revision target = Revision.of(pinned, config.modelServerImage());
    List<String> problems = new SpecValidator(secrets(client))
        .validate(mdep, gatewayApiInstalled.get(), RevisionDeployment.reservedEnv(target.template()));
    if (problems.isEmpty() && pin.unresolved().isPresent()) {
      return notDeployable(mdep, context, previous, stable, "SourceUnresolved", pin.unresolved().get(), events, pin);
    }
    if (problems.isEmpty() && !observed.containsKey(target.hash())) {
      AdmissionCheck.refusal(client, RevisionDeployment.desired(pinned, target, 0)).ifPresent(problems::add);
    }
    if (!problems.isEmpty()) {
      return notDeployable(mdep, context, previous, stable, "InvalidSpec", String.join("; ", problems), events, pin);
    }

    // 3. Decide.
    var settings = RolloutSettings.of(pinned.getSpec());
    Optional<ObservedRevision> canary =
        Optional.ofNullable(previous.getCanary()).map(c -> observed.get(c.getRevision()));
    var commands = Commands.of(mdep);
    InPlaceView inPlaceView = placer.observe(context, pinned, previous, stable, target);
    // What the gates said, if they were asked in this pass: counted even when the decision drops the canary.
    var evaluated = new AtomicReference<List<GateResultStatus>>(List.of());
    var view = new RolloutView(pinned, settings, target.hash(), previous, stable, canary,
        Optional.ofNullable(observed.get(target.hash())), commands, now,
        () -> evaluated.updateAndGet(none -> analysis.evaluate(new AnalysisRequest(pinned,
            previous.getCanary().getRevision(), canary.map(ObservedRevision::pods).orElse(List.of()),
            previous.getStable().getRevision(), stable.map(ObservedRevision::pods).orElse(List.of()), now,
            VersionPlacer.analysisVersions(previous)))), inPlaceView);
    Transition decision = PhaseHandlers.next(view);

    // 4. Record, before anything changes, so a restart resumes from the decision.
    var status = statuses.completed(statuses.decided(previous, decision, view), previous, pin, autoscaler(context, mdep));
    StatusRecorder.record(mdep, context, previous, status, StatusAggregator.notes(decision.notes, pin), events);
    metrics.record(mdep, previous, status, evaluated.get(), now);
    if (decision.ended != null) {
      analysis.forget(mdep.getMetadata().getNamespace(), mdep.getMetadata().getName());
      writeBack.ended(pinned, decision.ended, tracker, (m, why) -> events.warning(mdep, "WriteBackFailed", why));
    }

    // 5. Act.
    try {
      shadows.ensureToken(client, pinned);
      Actuator.act(pinned, context, decision, target, settings, observed, operatorPeer);
    } catch (KubernetesClientException e) {
      Optional<String> refused = AdmissionCheck.describe(e);
      if (refused.isEmpty()) {
        throw e; // unavailable, throttled, a conflict: JOSDK retries with backoff
      }
      return notDeployable(mdep, context, status, stable, "ApiRefused", refused.get(), events, pin);
    }
    boolean placed = placer.place(pinned, context, decision, target, settings, observed, inPlaceView.pods());
    Commands.consume(client, mdep, commands);
    // Mirroring starts once the canary has a ready pod: requests sent before would only fail.
    shadows.follow(client, pinned, Optional.ofNullable(status.getCanary())
            .filter(c -> c.getReadyReplicas() != null && c.getReadyReplicas() > 0).map(c -> c.getRevision()),
        decision.ended != null, stable.map(ObservedRevision::pods).orElse(List.of()));

    boolean rolling = status.getCanary() != null || status.getPhase() == Phase.RollingBack;
    Optional<Duration> look = rolling ? Optional.of(nextLook(status, settings))
        // Pods still to take a placement (a rollback's, say) are asked again soon, rollout or not.
        : placed ? Optional.empty() : Optional.of(min(PLACEMENT_RECHECK, config.rolloutPoll()));
    look = earliest(look, pin.nextRead());
    return look.isPresent()
        ? UpdateControl.<ModelDeployment>noUpdate().rescheduleAfter(look.get())
        : UpdateControl.noUpdate();
  }

  private static java.util.function.BiFunction<String, String, Optional<io.fabric8.kubernetes.api.model.Secret>> secrets(
      KubernetesClient client) {
    return (ns, name) -> Optional.ofNullable(client.secrets().inNamespace(ns).withName(name).get());
  }

  /**
   * The sooner of two waits; a tracked source is looked at no more often than once a second, and no later than
   * the operator looks again at a spec it could not deploy (tests move a clock and set that short).
   */
  private Optional<Duration> earliest(Optional<Duration> a, Optional<Duration> read) {
    Optional<Duration> b = read.map(d -> d.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : d)
        .map(d -> min(d, config.specRecheck()));
    if (a.isEmpty()) {
      return b;
    }
    return b.isEmpty() ? a : Optional.of(min(a.get(), b.get()));
  }

  /**
   * When to look again during a rollout: when the next analysis is due, so that windows are one interval long.
   * Counting a whole interval from every pass instead let each pod or Deployment event push the evaluation back,
   * and windows grew to 10 s and more (and the rollback of a failing canary with them).
   */
  private Duration nextLook(ModelDeploymentStatus status, RolloutSettings settings) {
    Duration poll = min(settings.analysisInterval(), config.rolloutPoll());
    var canary = status.getCanary();
    if (canary == null || canary.getAnalysis().isEmpty() || canary.getAnalysis().get(0).getAt() == null) {
      return poll;
    }
    Instant due = Instant.parse(canary.getAnalysis().get(0).getAt()).plus(settings.analysisInterval());
    Duration left = Duration.between(Instant.now(clock), due);
    Duration floor = min(MIN_LOOK, poll);
    return left.compareTo(floor) < 0 ? floor : min(left, poll);
  }

  /** How soon pods that have not taken their placement yet are looked at again. */
  private static final Duration PLACEMENT_RECHECK = Duration.ofSeconds(2);

  /** The shortest wait between two passes of one rollout. */
  private static final Duration MIN_LOOK = Duration.ofMillis(250);

  private UpdateControl<ModelDeployment> notDeployable(ModelDeployment mdep, Context<ModelDeployment> context,
      ModelDeploymentStatus previous, Optional<ObservedRevision> stable, String reason, String message,
      EventRecorder events, SourceTracker.Pin pin) {
    var status = statuses.completed(statuses.notDeployable(mdep, previous, stable, reason, message), previous, pin,
        autoscaler(context, mdep));
    StatusRecorder.record(mdep, context, previous, status, StatusAggregator.notes(List.of(), pin), events);
    // Fixing it may take an object we do not watch (a Secret, a PriorityClass): look again in a while.
    return UpdateControl.<ModelDeployment>noUpdate()
        .rescheduleAfter(earliest(Optional.of(config.specRecheck()), pin.nextRead()).orElseThrow());
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) < 0 ? a : b;
  }

  /** How many reconciliations have finished: lets tests wait for "one more pass" without sleeping. */
  public long reconciliations() {
    return reconciliations.get();
  }
}
