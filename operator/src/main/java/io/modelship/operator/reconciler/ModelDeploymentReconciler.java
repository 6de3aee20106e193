package io.modelship.operator.reconciler;

import static io.modelship.operator.api.CrdConstants.LABEL_DEPLOYMENT;
import static io.modelship.operator.api.CrdConstants.LABEL_REVISION;
import static io.modelship.operator.reconciler.Conditions.ARTIFACT_RESOLVED;
import static io.modelship.operator.reconciler.Conditions.DEGRADED;
import static io.modelship.operator.reconciler.Conditions.FALSE;
import static io.modelship.operator.reconciler.Conditions.PROGRESSING;
import static io.modelship.operator.reconciler.Conditions.READY;
import static io.modelship.operator.reconciler.Conditions.TRUE;
import static io.modelship.operator.reconciler.Conditions.UNKNOWN;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.modelship.operator.OperatorConfig;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.ModelSource;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.api.status.RevisionStatus;
import io.modelship.operator.events.EventRecorder;
import io.modelship.operator.resources.Applier;
import io.modelship.operator.resources.ClientService;
import io.modelship.operator.resources.Labels;
import io.modelship.operator.resources.RevisionDeployment;
import io.modelship.operator.resources.RevisionService;
import io.modelship.operator.revision.Revision;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a ModelDeployment into the revision its spec asks for, keeping the previous revision serving until
 * the new one is ready, then removing it. One pass: validate, observe, apply what differs, remove what is no
 * longer live, and write status only when it changed. Writes nothing when nothing changed.
 */
@ControllerConfiguration(name = ModelDeploymentReconciler.NAME)
public class ModelDeploymentReconciler implements Reconciler<ModelDeployment> {
  public static final String NAME = "modeldeployment";
  /** An invalid spec may be fixed by creating a Secret, which we do not watch: look again this often. */
  static final Duration INVALID_SPEC_RECHECK = Duration.ofSeconds(30);

  /** Ready=False reasons a person must act on; Pending and Progressing are just the way there. */
  private static final Set<String> WARNING_REASONS = Set.of("InvalidSpec", "FetchFailed");

  private static final Logger log = LoggerFactory.getLogger(ModelDeploymentReconciler.class);

  private final OperatorConfig config;
  private final Clock clock;
  private final AtomicLong reconciliations = new AtomicLong();

  public ModelDeploymentReconciler(OperatorConfig config, Clock clock) {
    this.config = config;
    this.clock = clock;
  }

  @Override
  public List<EventSource<?, ModelDeployment>> prepareEventSources(EventSourceContext<ModelDeployment> context) {
    return List.of(
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
            context));
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
    ModelDeploymentStatus previous = mdep.getStatus() != null ? mdep.getStatus() : new ModelDeploymentStatus();
    Map<String, ObservedRevision> observed = observe(context);
    Optional<ObservedRevision> stable =
        Optional.ofNullable(previous.getStable()).map(s -> observed.get(s.getRevision()));

    List<String> problems =
        new SpecValidator((ns, name) -> Optional.ofNullable(client.secrets().inNamespace(ns).withName(name).get()))
            .validate(mdep);
    if (!problems.isEmpty()) {
      // Nothing is deployed from an invalid spec; whatever already serves keeps serving.
      var status = invalidSpecStatus(mdep, previous, stable, String.join("; ", problems));
      return finish(mdep, previous, status, events).rescheduleAfter(INVALID_SPEC_RECHECK);
    }

    Revision target = Revision.of(mdep, config.modelServerImage());
    Optional<ObservedRevision> targetObserved = Optional.ofNullable(observed.get(target.hash()));
    var applier = new Applier(client);
    applier.apply(
        RevisionDeployment.desired(mdep, target, mdep.getSpec().getReplicas()),
        targetObserved.map(ObservedRevision::deployment),
        context);
    applier.apply(RevisionService.desired(mdep, target), secondary(context, Service.class, target.objectName(mdep)), context);
    applier.apply(ClientService.desired(mdep), secondary(context, Service.class, mdep.getMetadata().getName()), context);

    boolean targetReady = targetObserved.map(ObservedRevision::isReady).orElse(false);
    // The previous revision serves until the new one is fully ready; then it goes.
    Optional<ObservedRevision> keep =
        stable.filter(s -> !s.hash().equals(target.hash()) && !targetReady);
    Set<String> live = keep.map(k -> Set.of(target.hash(), k.hash())).orElse(Set.of(target.hash()));
    removeRevisionsNotIn(live, context, applier);

    var status = computeStatus(mdep, previous, target, targetObserved, keep);
    if (targetReady && stable.isPresent() && !stable.get().hash().equals(target.hash())) {
      events.normal(mdep, "RevisionReplaced",
          "revision %s is ready and serving; revision %s removed".formatted(target.hash(), stable.get().hash()));
    }
    return finish(mdep, previous, status, events);
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

  private ModelDeploymentStatus computeStatus(
      ModelDeployment mdep,
      ModelDeploymentStatus previous,
      Revision target,
      Optional<ObservedRevision> targetObserved,
      Optional<ObservedRevision> keep) {
    var conditions = new Conditions(previous.getConditions(), generation(mdep), clock);
    var status = new ModelDeploymentStatus();
    status.setObservedGeneration(generation(mdep));

    boolean ready = targetObserved.map(ObservedRevision::isReady).orElse(false);
    Optional<String> fetchFailure = targetObserved.flatMap(ObservedRevision::fetchFailure);
    Optional<ObservedRevision.Artifact> artifact = targetObserved.flatMap(ObservedRevision::artifact);
    RevisionStatus targetStatus = revisionStatus(mdep, target.hash(), targetObserved, previous);

    if (artifact.isPresent()) {
      conditions.set(ARTIFACT_RESOLVED, TRUE, "ArtifactVerified", "revision %s: %s (version %s, sha256 %s)".formatted(
          target.hash(), targetStatus.getArtifactUri(), orDash(targetStatus.getModelVersion()), orDash(targetStatus.getDigest())));
    } else if (fetchFailure.isPresent()) {
      conditions.set(ARTIFACT_RESOLVED, FALSE, "FetchFailed", "revision %s: %s".formatted(target.hash(), fetchFailure.get()));
    } else {
      conditions.set(ARTIFACT_RESOLVED, UNKNOWN, "Fetching", "revision %s: fetching %s".formatted(target.hash(), sourceUri(mdep)));
    }

    if (ready) {
      status.setPhase(Phase.Stable);
      status.setStable(targetStatus);
      conditions.set(READY, TRUE, "RevisionReady", "revision %s serves with %d/%d pods ready".formatted(
          target.hash(), targetStatus.getReadyReplicas(), targetStatus.getReplicas()));
      conditions.set(PROGRESSING, FALSE, "RolloutComplete", "revision %s is the only live revision".formatted(target.hash()));
      conditions.set(DEGRADED, FALSE, "AsExpected", "the revision the spec asks for is serving");
      return withConditions(status, conditions);
    }

    keep.ifPresent(k -> status.setStable(revisionStatus(mdep, k.hash(), Optional.of(k), previous)));
    status.setCanary(keep.isPresent()
        ? fill(new io.modelship.operator.api.status.CanaryStatus(), mdep, target.hash(), targetObserved, previous)
        : null);
    if (keep.isEmpty()) {
      status.setStable(null);
    }
    String serving = keep.map(k -> "; revision %s keeps serving".formatted(k.hash())).orElse("; nothing serves yet");
    if (fetchFailure.isPresent()) {
      status.setPhase(keep.isPresent() ? Phase.Degraded : Phase.Failed);
      conditions.set(READY, FALSE, "FetchFailed", "revision %s cannot start: %s%s".formatted(target.hash(), fetchFailure.get(), serving));
      conditions.set(PROGRESSING, FALSE, "FetchFailed", "revision %s is not progressing until its artifact can be fetched".formatted(target.hash()));
      conditions.set(DEGRADED, keep.isPresent() ? TRUE : FALSE, "FetchFailed", fetchFailure.get());
    } else {
      status.setPhase(keep.isPresent() ? Phase.Progressing : Phase.Pending);
      conditions.set(READY, FALSE, keep.isPresent() ? "Progressing" : "Pending",
          "revision %s has %d/%d pods ready%s".formatted(target.hash(),
              targetStatus.getReadyReplicas(), targetStatus.getReplicas(), serving));
      conditions.set(PROGRESSING, TRUE, "RevisionStarting", "revision %s is starting".formatted(target.hash()));
      conditions.set(DEGRADED, FALSE, "AsExpected", "no failure observed");
    }
    return withConditions(status, conditions);
  }

  private ModelDeploymentStatus invalidSpecStatus(
      ModelDeployment mdep, ModelDeploymentStatus previous, Optional<ObservedRevision> stable, String message) {
    var conditions = new Conditions(previous.getConditions(), generation(mdep), clock);
    var status = new ModelDeploymentStatus();
    status.setObservedGeneration(generation(mdep));
    stable.ifPresent(s -> status.setStable(revisionStatus(mdep, s.hash(), Optional.of(s), previous)));
    status.setPhase(stable.isPresent() ? Phase.Degraded : Phase.Failed);
    String serving = stable.map(s -> "; revision %s keeps serving".formatted(s.hash())).orElse("");
    conditions.set(READY, FALSE, "InvalidSpec", message + serving);
    Conditions.find(previous.getConditions(), ARTIFACT_RESOLVED)
        .ifPresent(c -> conditions.set(ARTIFACT_RESOLVED, c.getStatus(), c.getReason(), c.getMessage()));
    conditions.set(PROGRESSING, FALSE, "InvalidSpec", "nothing is deployed from an invalid spec");
    conditions.set(DEGRADED, stable.isPresent() ? TRUE : FALSE, "InvalidSpec", message);
    return withConditions(status, conditions);
  }

  private static ModelDeploymentStatus withConditions(ModelDeploymentStatus status, Conditions conditions) {
    status.setConditions(conditions.build());
    return status;
  }

  /** The status of one revision: observed counts, and artifact facts from its pods or from earlier status. */
  private static RevisionStatus revisionStatus(
      ModelDeployment mdep, String hash, Optional<ObservedRevision> observed, ModelDeploymentStatus previous) {
    return fill(new RevisionStatus(), mdep, hash, observed, previous);
  }

  private static <T extends RevisionStatus> T fill(
      T rs, ModelDeployment mdep, String hash, Optional<ObservedRevision> observed, ModelDeploymentStatus previous) {
    rs.setRevision(hash);
    rs.setReplicas(observed.map(ObservedRevision::desiredReplicas).orElse(mdep.getSpec().getReplicas()));
    rs.setReadyReplicas(observed.map(ObservedRevision::readyReplicas).orElse(0));
    // Pods come and go; what a revision's artifact was does not change, so earlier status is a fine source.
    Optional<RevisionStatus> earlier = Optional.ofNullable(previous.getStable())
        .filter(s -> hash.equals(s.getRevision()))
        .or(() -> Optional.ofNullable(previous.getCanary()).filter(s -> hash.equals(s.getRevision())));
    Optional<ObservedRevision.Artifact> artifact = observed.flatMap(ObservedRevision::artifact);
    rs.setArtifactUri(artifact.map(ObservedRevision.Artifact::resolvedUri)
        .or(() -> earlier.map(RevisionStatus::getArtifactUri)).orElse(sourceUri(mdep)));
    rs.setModelVersion(artifact.map(ObservedRevision.Artifact::modelVersion)
        .or(() -> earlier.map(RevisionStatus::getModelVersion)).orElse(null));
    rs.setDigest(artifact.map(ObservedRevision.Artifact::sha256)
        .or(() -> earlier.map(RevisionStatus::getDigest)).orElse(null));
    return rs;
  }

  /** The spec's source as one URI: s3://… as written, MLflow as its own models:/ form. */
  static String sourceUri(ModelDeployment mdep) {
    ModelSource source = mdep.getSpec().getModel().getSource();
    if (source.getS3() != null) {
      return source.getS3().getUri();
    }
    var mlflow = source.getMlflow();
    return mlflow.getAlias() != null
        ? "models:/%s@%s".formatted(mlflow.getName(), mlflow.getAlias())
        : "models:/%s/%s".formatted(mlflow.getName(), mlflow.getVersion());
  }

  /** Records Events for transitions, and patches status only when it changed. */
  private UpdateControl<ModelDeployment> finish(
      ModelDeployment mdep, ModelDeploymentStatus previous, ModelDeploymentStatus status, EventRecorder events) {
    recordTransitions(mdep, previous, status, events);
    if (previous.getPhase() != status.getPhase()) {
      log.info("{}/{}: phase {} -> {}", mdep.getMetadata().getNamespace(), mdep.getMetadata().getName(),
          previous.getPhase(), status.getPhase());
    }
    var mapper = Serialization.jsonMapper();
    if (mapper.valueToTree(status).equals(mapper.valueToTree(previous))) {
      return UpdateControl.noUpdate();
    }
    var fresh = new ModelDeployment();
    fresh.setMetadata(new ObjectMetaBuilder()
        .withName(mdep.getMetadata().getName())
        .withNamespace(mdep.getMetadata().getNamespace())
        .build());
    fresh.setStatus(status);
    return UpdateControl.patchStatus(fresh);
  }

  private static void recordTransitions(
      ModelDeployment mdep, ModelDeploymentStatus previous, ModelDeploymentStatus status, EventRecorder events) {
    for (var condition : status.getConditions()) {
      if (!Conditions.changed(previous.getConditions(), condition)) {
        continue;
      }
      boolean ready = READY.equals(condition.getType());
      if (ready && FALSE.equals(condition.getStatus()) && WARNING_REASONS.contains(condition.getReason())) {
        events.warning(mdep, condition.getReason(), condition.getMessage());
      } else if (TRUE.equals(condition.getStatus())
          && (ready || ARTIFACT_RESOLVED.equals(condition.getType()))) {
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
