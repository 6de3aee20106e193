package io.modelship.operator.reconciler;

import static io.modelship.operator.api.CrdConstants.LABEL_DEPLOYMENT;
import static io.modelship.operator.api.CrdConstants.LABEL_REVISION;
import static io.modelship.operator.reconciler.Conditions.ARTIFACT_RESOLVED;
import static io.modelship.operator.reconciler.Conditions.CANARY_HEALTHY;
import static io.modelship.operator.reconciler.Conditions.DEGRADED;
import static io.modelship.operator.reconciler.Conditions.FALSE;
import static io.modelship.operator.reconciler.Conditions.PROGRESSING;
import static io.modelship.operator.reconciler.Conditions.READY;
import static io.modelship.operator.reconciler.Conditions.TRUE;
import static io.modelship.operator.reconciler.Conditions.UNKNOWN;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.modelship.operator.OperatorConfig;
import io.modelship.operator.analysis.AnalysisRequest;
import io.modelship.operator.analysis.CanaryAnalysis;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.metrics.RolloutMetrics;
import io.modelship.operator.api.status.GateResultStatus.Verdict;
import io.modelship.operator.api.status.HistoryEntry;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.events.EventRecorder;
import io.modelship.operator.resources.Applier;
import io.modelship.operator.resources.ClientService;
import io.modelship.operator.resources.Labels;
import io.modelship.operator.resources.RevisionDeployment;
import io.modelship.operator.resources.RevisionService;
import io.modelship.operator.resources.TrafficRoute;
import io.modelship.operator.revision.Revision;
import io.modelship.operator.rollout.PhaseHandlers;
import io.modelship.operator.rollout.RevisionStatuses;
import io.modelship.operator.rollout.RolloutSettings;
import io.modelship.operator.rollout.RolloutView;
import io.modelship.operator.rollout.RolloutView.Command;
import io.modelship.operator.rollout.TrafficPlan;
import io.modelship.operator.rollout.Transition;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a ModelDeployment into live revisions. Each pass: validate the spec, observe the revisions, let the
 * handler of the current phase decide (rollout/PhaseHandlers), record that decision in status, then make the
 * cluster match the recorded decision. Because the cluster is shaped from status alone, an operator restarted at
 * any moment resumes where it was. A pass that changes nothing writes nothing.
 */
@ControllerConfiguration(name = ModelDeploymentReconciler.NAME, generationAwareEventProcessing = false)
public class ModelDeploymentReconciler implements Reconciler<ModelDeployment> {
  public static final String NAME = "modeldeployment";
  static final int HISTORY_LIMIT = 10;
  static final String HTTPROUTE_CRD = "httproutes.gateway.networking.k8s.io";
  /** Ready=False reasons a person must act on; the others are just the way there. */
  private static final Set<String> WARNING_REASONS = Set.of("InvalidSpec", "FetchFailed", "CrashLoop");

  private static final Logger log = LoggerFactory.getLogger(ModelDeploymentReconciler.class);

  private final OperatorConfig config;
  private final Clock clock;
  private final CanaryAnalysis analysis;
  private final RolloutMetrics metrics;
  private final AtomicLong reconciliations = new AtomicLong();
  /** Whether the Gateway API's HTTPRoute kind existed when the informers started (so we can watch our routes). */
  private final AtomicBoolean gatewayApiInstalled = new AtomicBoolean();

  public ModelDeploymentReconciler(OperatorConfig config, Clock clock, CanaryAnalysis analysis, RolloutMetrics metrics) {
    this.config = config;
    this.clock = clock;
    this.analysis = analysis;
    this.metrics = metrics;
  }

  @Override
  public List<EventSource<?, ModelDeployment>> prepareEventSources(EventSourceContext<ModelDeployment> context) {
    List<EventSource<?, ModelDeployment>> sources = new ArrayList<>();
    // An informer on a kind the cluster does not serve would keep the operator from starting, and Gateway API is
    // optional: watch HTTPRoutes only where they exist.
    gatewayApiInstalled.set(crdInstalled(context.getClient(), HTTPROUTE_CRD));
    if (gatewayApiInstalled.get()) {
      sources.add(ownedInformer(HTTPRoute.class, context));
    }
    sources.addAll(List.of(
        ownedInformer(Deployment.class, context),
        ownedInformer(Service.class, context),
        // Pods are owned by ReplicaSets, not by us: map them back through our label.
        new InformerEventSource<>(
            InformerEventSourceConfiguration.from(Pod.class, ModelDeployment.class)
                .withLabelSelector(Labels.MANAGED_SELECTOR)
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
    return new InformerEventSource<>(
        InformerEventSourceConfiguration.from(type, ModelDeployment.class)
            .withLabelSelector(Labels.MANAGED_SELECTOR)
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
    Map<String, ObservedRevision> observed = observe(context);
    Optional<ObservedRevision> stable =
        Optional.ofNullable(previous.getStable()).map(s -> observed.get(s.getRevision()));

    List<String> problems =
        new SpecValidator((ns, name) -> Optional.ofNullable(client.secrets().inNamespace(ns).withName(name).get()))
            .validate(mdep);
    if (RolloutSettings.of(mdep.getSpec()).gatewayApi().isPresent() && !gatewayApiInstalled.get()) {
      problems = new ArrayList<>(problems);
      problems.add("spec.rollout.traffic.gatewayAPI: this cluster served no HTTPRoute kind (" + HTTPROUTE_CRD
          + ") when the operator started; install Gateway API and restart the operator, or use traffic.service");
    }
    if (!problems.isEmpty()) {
      // Nothing is deployed from an invalid spec; whatever already runs keeps running as it is.
      var status = invalidSpecStatus(mdep, previous, stable, String.join("; ", problems));
      record(mdep, context, previous, status, List.of(), events);
      return UpdateControl.<ModelDeployment>noUpdate().rescheduleAfter(config.specRecheck());
    }

    var settings = RolloutSettings.of(mdep.getSpec());
    Revision target = Revision.of(mdep, config.modelServerImage());
    Optional<ObservedRevision> canary =
        Optional.ofNullable(previous.getCanary()).map(c -> observed.get(c.getRevision()));
    Set<Command> commands = commands(mdep);
    var view = new RolloutView(mdep, settings, target.hash(), previous, stable, canary,
        Optional.ofNullable(observed.get(target.hash())), commands, now,
        () -> analysis.evaluate(new AnalysisRequest(mdep,
            previous.getCanary().getRevision(), canary.map(ObservedRevision::pods).orElse(List.of()),
            previous.getStable().getRevision(), stable.map(ObservedRevision::pods).orElse(List.of()), now)));

    Transition decision = PhaseHandlers.next(view);
    var status = toStatus(mdep, previous, decision, view);
    // The decision is recorded before anything changes, so a restart resumes from it.
    record(mdep, context, previous, status, decision.notes, events);
    metrics.record(mdep, previous, status, now);
    if (decision.ended != null) {
      analysis.forget(mdep.getMetadata().getNamespace(), mdep.getMetadata().getName());
    }
    act(mdep, context, decision, target, settings, observed);
    clearCommands(mdep, context, commands);

    boolean rolling = status.getCanary() != null || status.getPhase() == Phase.RollingBack;
    return rolling
        ? UpdateControl.<ModelDeployment>noUpdate().rescheduleAfter(
            settings.analysisInterval().compareTo(config.rolloutPoll()) < 0 ? settings.analysisInterval() : config.rolloutPoll())
        : UpdateControl.noUpdate();
  }

  /** Makes the cluster match the recorded decision: which revisions live, with how many pods, and the weights. */
  private void act(ModelDeployment mdep, Context<ModelDeployment> context, Transition decision, Revision target,
      RolloutSettings settings, Map<String, ObservedRevision> observed) {
    var applier = new Applier(context.getClient());
    int n = settings.replicas();
    String stableHash = decision.stable != null ? decision.stable.getRevision() : null;
    Map<String, Integer> weights = new LinkedHashMap<>();
    Set<String> live = new LinkedHashSet<>();

    if (decision.canary != null) {
      String canaryHash = decision.canary.getRevision();
      int weight = decision.phase == Phase.Promoting ? 100 : settings.step(decision.canary.getStep()).getWeight();
      var canaryObserved = Optional.ofNullable(observed.get(canaryHash));
      int canaryReady = canaryObserved.map(ObservedRevision::readyReplicas).orElse(0);
      int stablePods = Optional.ofNullable(observed.get(stableHash)).map(ObservedRevision::desiredReplicas).orElse(0);
      var plan = TrafficPlan.forWeight(n, weight, settings.surge(), canaryReady, stablePods);
      // Stable shrinks first: in swap mode the canary's GPUs come from it.
      scale(applier, observed.get(stableHash), plan.stableReplicas(), context);
      applier.apply(RevisionDeployment.desired(mdep, target, plan.canaryReplicas()),
          canaryObserved.map(ObservedRevision::deployment), context);
      live.add(stableHash);
      live.add(canaryHash);
      // Only ready, warmed-up canary pods ever get traffic.
      int routed = canaryReady > 0 ? weight : 0;
      weights.put(stableHash, 100 - routed);
      weights.put(canaryHash, routed);
    } else if (stableHash != null) {
      live.add(stableHash);
      weights.put(stableHash, 100);
      if (stableHash.equals(target.hash())) {
        applier.apply(RevisionDeployment.desired(mdep, target, n),
            Optional.ofNullable(observed.get(stableHash)).map(ObservedRevision::deployment), context);
      } else {
        scale(applier, observed.get(stableHash), n, context);
      }
    } else if (!target.hash().equals(decision.failedRevision)) {
      // Nothing serves yet: the target runs at full size.
      live.add(target.hash());
      weights.put(target.hash(), 100);
      applier.apply(RevisionDeployment.desired(mdep, target, n),
          Optional.ofNullable(observed.get(target.hash())).map(ObservedRevision::deployment), context);
    }

    for (String revision : live) {
      applier.apply(RevisionService.desired(mdep, revision), secondary(context, Service.class,
          Revision.objectName(mdep.getMetadata().getName(), revision)), context);
    }
    applier.apply(ClientService.desired(mdep), secondary(context, Service.class, mdep.getMetadata().getName()), context);
    settings.gatewayApi().ifPresent(gateway -> {
      if (!weights.isEmpty()) {
        applier.apply(TrafficRoute.desired(mdep, gateway, weights),
            secondary(context, HTTPRoute.class, gateway.getHttpRoute()), context);
      }
    });
    removeRevisionsNotIn(live, context, applier);
  }

  private static void scale(Applier applier, ObservedRevision revision, int replicas, Context<ModelDeployment> context) {
    if (revision != null) {
      applier.scale(revision.deployment(), replicas, context);
    }
  }

  /** Live revisions, keyed by revision hash, from the informer caches. */
  private static Map<String, ObservedRevision> observe(Context<ModelDeployment> context) {
    Map<String, List<Pod>> podsByRevision =
        context.getSecondaryResources(Pod.class).stream()
            .filter(p -> p.getMetadata().getLabels().containsKey(LABEL_REVISION))
            .collect(Collectors.groupingBy(p -> p.getMetadata().getLabels().get(LABEL_REVISION)));
    return context.getSecondaryResources(Deployment.class).stream()
        .filter(d -> d.getMetadata().getLabels() != null && d.getMetadata().getLabels().containsKey(LABEL_REVISION))
        .map(d -> {
          String hash = d.getMetadata().getLabels().get(LABEL_REVISION);
          return new ObservedRevision(hash, d, podsByRevision.getOrDefault(hash, List.of()));
        })
        .collect(Collectors.toMap(ObservedRevision::hash, Function.identity(), (a, b) -> a));
  }

  private static <T extends HasMetadata> Optional<T> secondary(Context<ModelDeployment> context, Class<T> type, String name) {
    return context.getSecondaryResources(type).stream()
        .filter(r -> name.equals(r.getMetadata().getName()))
        .findFirst();
  }

  private static void removeRevisionsNotIn(Set<String> live, Context<ModelDeployment> context, Applier applier) {
    for (Class<? extends HasMetadata> type : List.of(Deployment.class, Service.class)) {
      context.getSecondaryResources(type).stream()
          .filter(r -> r.getMetadata().getLabels() != null)
          .filter(r -> {
            String revision = r.getMetadata().getLabels().get(LABEL_REVISION);
            return revision != null && !live.contains(revision);
          })
          .forEach(applier::delete);
    }
  }

  private static Set<Command> commands(ModelDeployment mdep) {
    var annotations = mdep.getMetadata().getAnnotations();
    var commands = EnumSet.noneOf(Command.class);
    if (annotations != null) {
      for (Command c : Command.values()) {
        if (annotations.containsKey(c.annotation)) {
          commands.add(c);
        }
      }
    }
    return commands;
  }

  /** A command annotation is consumed by the pass that saw it, so it acts exactly once. */
  private static void clearCommands(ModelDeployment mdep, Context<ModelDeployment> context, Set<Command> commands) {
    if (commands.isEmpty()) {
      return;
    }
    // JSON patch "remove" without a resourceVersion: it cannot conflict with the user's own edits.
    String patch = commands.stream()
        .map(c -> "{\"op\":\"remove\",\"path\":\"/metadata/annotations/" + c.annotation.replace("~", "~0").replace("/", "~1") + "\"}")
        .collect(Collectors.joining(",", "[", "]"));
    try {
      context.getClient().resources(ModelDeployment.class).inNamespace(mdep.getMetadata().getNamespace())
          .withName(mdep.getMetadata().getName())
          .patch(PatchContext.of(PatchType.JSON), patch);
    } catch (KubernetesClientException e) {
      // Already removed by someone else: nothing left to consume.
      log.debug("could not remove command annotations from {}: {}", mdep.getMetadata().getName(), e.getMessage());
    }
  }

  private ModelDeploymentStatus toStatus(ModelDeployment mdep, ModelDeploymentStatus previous, Transition d, RolloutView view) {
    var status = new ModelDeploymentStatus();
    status.setObservedGeneration(generation(mdep));
    status.setPhase(d.phase);
    status.setStable(d.stable);
    status.setCanary(d.canary);
    status.setFailedRevision(d.failedRevision);
    List<HistoryEntry> history = new ArrayList<>();
    if (d.ended != null) {
      history.add(d.ended);
    }
    history.addAll(previous.getHistory() == null ? List.of() : previous.getHistory());
    status.setHistory(history.subList(0, Math.min(HISTORY_LIMIT, history.size())));

    var conditions = new Conditions(previous.getConditions(), generation(mdep), clock);
    artifactCondition(conditions, view);
    boolean serving = d.phase == Phase.Stable && view.stable().map(ObservedRevision::isReady)
        .or(() -> view.targetObserved().map(ObservedRevision::isReady)).orElse(false);
    conditions.set(READY, serving ? TRUE : FALSE, serving ? "RevisionReady" : d.reason, d.message);
    boolean rolling = EnumSet.of(Phase.Progressing, Phase.Paused, Phase.Promoting, Phase.RollingBack).contains(d.phase);
    conditions.set(PROGRESSING, rolling ? TRUE : FALSE, rolling ? d.reason : "NoRollout",
        rolling ? d.message : "no rollout in progress");
    boolean degraded = d.phase == Phase.Degraded || d.phase == Phase.Failed;
    conditions.set(DEGRADED, degraded ? TRUE : FALSE, degraded ? d.reason : "AsExpected",
        degraded ? d.message : "no failure observed");
    if (d.canary != null) {
      var results = d.canary.getAnalysis();
      boolean fail = results.stream().anyMatch(r -> r.getVerdict() == Verdict.Fail);
      boolean pass = !results.isEmpty() && results.stream().allMatch(r -> r.getVerdict() == Verdict.Pass);
      conditions.set(CANARY_HEALTHY, fail ? FALSE : pass ? TRUE : UNKNOWN,
          fail ? "GateFailed" : pass ? "GatesPassing" : results.isEmpty() ? "NotEvaluated" : "Inconclusive",
          results.isEmpty() ? "no gate evaluated yet" : results.stream()
              .map(r -> r.getGate() + " " + r.getVerdict() + (r.getMessage() != null ? " (" + r.getMessage() + ")" : ""))
              .collect(Collectors.joining("; ")));
    }
    status.setConditions(conditions.build());
    return status;
  }

  private static void artifactCondition(Conditions conditions, RolloutView view) {
    var targetObserved = view.targetObserved();
    var artifact = targetObserved.flatMap(ObservedRevision::artifact);
    var failure = targetObserved.flatMap(ObservedRevision::fetchFailure);
    String target = view.target();
    if (artifact.isPresent()) {
      conditions.set(ARTIFACT_RESOLVED, TRUE, "ArtifactVerified", "revision %s: %s (version %s, sha256 %s)".formatted(
          target, orDash(artifact.get().resolvedUri()), orDash(artifact.get().modelVersion()), orDash(artifact.get().sha256())));
    } else if (failure.isPresent()) {
      conditions.set(ARTIFACT_RESOLVED, FALSE, "FetchFailed", "revision %s: %s".formatted(target, failure.get()));
    } else if (view.stable().map(s -> s.hash().equals(target)).orElse(false)) {
      conditions.set(ARTIFACT_RESOLVED, TRUE, "ArtifactVerified", "revision %s serves".formatted(target));
    } else {
      conditions.set(ARTIFACT_RESOLVED, UNKNOWN, "Fetching", "revision %s: fetching %s".formatted(target, RevisionStatuses.sourceUri(view.mdep())));
    }
  }

  private ModelDeploymentStatus invalidSpecStatus(
      ModelDeployment mdep, ModelDeploymentStatus previous, Optional<ObservedRevision> stable, String message) {
    var conditions = new Conditions(previous.getConditions(), generation(mdep), clock);
    var status = Serialization.jsonMapper().convertValue(previous, ModelDeploymentStatus.class);
    status.setObservedGeneration(generation(mdep));
    stable.ifPresent(s -> status.setStable(RevisionStatuses.of(mdep, previous, s.hash(), Optional.of(s))));
    status.setPhase(stable.isPresent() ? Phase.Degraded : Phase.Failed);
    String serving = stable.map(s -> "; revision %s keeps serving".formatted(s.hash())).orElse("");
    conditions.set(READY, FALSE, "InvalidSpec", message + serving);
    Conditions.find(previous.getConditions(), ARTIFACT_RESOLVED)
        .ifPresent(c -> conditions.set(ARTIFACT_RESOLVED, c.getStatus(), c.getReason(), c.getMessage()));
    conditions.set(PROGRESSING, FALSE, "InvalidSpec", "nothing is deployed from an invalid spec");
    conditions.set(DEGRADED, stable.isPresent() ? TRUE : FALSE, "InvalidSpec", message);
    status.setConditions(conditions.build());
    return status;
  }

  /** Records Events for transitions, and patches status only when it changed. */
  private void record(ModelDeployment mdep, Context<ModelDeployment> context, ModelDeploymentStatus previous,
      ModelDeploymentStatus status, List<Transition.Note> notes, EventRecorder events) {
    for (var note : notes) {
      if (note.warning()) {
        events.warning(mdep, note.reason(), note.message());
      } else {
        events.normal(mdep, note.reason(), note.message());
      }
    }
    recordReadyTransitions(mdep, previous, status, events);
    if (previous.getPhase() != status.getPhase()) {
      log.info("{}/{}: phase {} -> {}", mdep.getMetadata().getNamespace(), mdep.getMetadata().getName(),
          previous.getPhase(), status.getPhase());
    }
    var mapper = Serialization.jsonMapper();
    if (mapper.valueToTree(status).equals(mapper.valueToTree(previous))) {
      return;
    }
    PrimaryUpdateAndCacheUtils.patchStatusAndCacheResource(mdep, context, m -> {
      m.setStatus(status);
      return m;
    });
  }

  private static void recordReadyTransitions(
      ModelDeployment mdep, ModelDeploymentStatus previous, ModelDeploymentStatus status, EventRecorder events) {
    for (var condition : status.getConditions()) {
      if (!Conditions.changed(previous.getConditions(), condition)) {
        continue;
      }
      boolean ready = READY.equals(condition.getType());
      if (ready && FALSE.equals(condition.getStatus()) && WARNING_REASONS.contains(condition.getReason())) {
        events.warning(mdep, condition.getReason(), condition.getMessage());
      } else if (TRUE.equals(condition.getStatus()) && ARTIFACT_RESOLVED.equals(condition.getType())
          && !"ArtifactVerified".equals(Conditions.find(previous.getConditions(), ARTIFACT_RESOLVED).map(c -> c.getReason()).orElse(null))) {
        events.normal(mdep, condition.getReason(), condition.getMessage());
      }
    }
  }

  private static long generation(ModelDeployment mdep) {
    return mdep.getMetadata().getGeneration() != null ? mdep.getMetadata().getGeneration() : 0L;
  }

  private static String orDash(String s) {
    return s == null ? "-" : s;
  }

  /** How many reconciliations have finished: lets tests wait for "one more pass" without sleeping. */
  public long reconciliations() {
    return reconciliations.get();
  }
}
