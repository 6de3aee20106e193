package io.modelship.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentConditionBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.api.status.RevisionStatus;
import io.modelship.operator.revision.ObservedRevision;
import io.modelship.operator.rollout.RolloutSettings;
import io.modelship.operator.rollout.RolloutView;
import io.modelship.operator.rollout.TransitionsForTests;
import io.modelship.operator.testing.ModelDeployments;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every condition, case by case: what Ready, ArtifactResolved, Progressing and Degraded say in each situation. */
class StatusAggregatorTest {
  private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");
  private final StatusAggregator statuses = new StatusAggregator(Clock.fixed(NOW, ZoneOffset.UTC));
  private final ModelDeployment mdep = withGeneration(ModelDeployments.s3("iris", "s3://models/iris/2/"));

  private static ModelDeployment withGeneration(ModelDeployment mdep) {
    mdep.getMetadata().setGeneration(3L);
    mdep.getMetadata().setNamespace("ml");
    return mdep;
  }

  private static ObservedRevision revision(String hash, int desired, int ready) {
    return new ObservedRevision(hash, deployment(hash, desired, ready), List.of());
  }

  private static Deployment deployment(String hash, int desired, int ready) {
    return new DeploymentBuilder().withNewMetadata().withName("iris-" + hash).withGeneration(1L).endMetadata()
        .withNewSpec().withReplicas(desired).endSpec()
        .withNewStatus().withObservedGeneration(1L).withReplicas(desired).withReadyReplicas(ready).endStatus()
        .build();
  }

  private RolloutView view(String target, ModelDeploymentStatus previous, Optional<ObservedRevision> stable,
      Optional<ObservedRevision> canary, Optional<ObservedRevision> targetObserved) {
    return new RolloutView(mdep, RolloutSettings.of(mdep.getSpec()), target, previous, stable, canary, targetObserved,
        Set.of(), NOW, List::of, io.modelship.operator.rollout.InPlaceView.none(target, target));
  }

  private static RevisionStatus revisionStatus(String hash, String digest) {
    var status = new RevisionStatus();
    status.setRevision(hash);
    status.setArtifactUri("s3://models/iris/1/");
    status.setDigest(digest);
    return status;
  }

  private static Condition condition(ModelDeploymentStatus status, String type) {
    return Conditions.find(status.getConditions(), type).orElseThrow();
  }

  @Test
  void aRolloutInProgressIsReadyBecauseTheStableRevisionServes() {
    var stable = revision("aaaa", 3, 3);
    var canary = revision("bbbb", 1, 1);
    var d = TransitionsForTests.of(Phase.Progressing, "StepInProgress", "step 0 (weight 25%) reached");
    d.stable = revisionStatus("aaaa", "d1");
    d.canary = new CanaryStatus();
    d.canary.setRevision("bbbb");

    var status = statuses.decided(new ModelDeploymentStatus(), d,
        view("bbbb", new ModelDeploymentStatus(), Optional.of(stable), Optional.of(canary), Optional.of(canary)));

    assertThat(condition(status, Conditions.READY).getStatus()).isEqualTo("True");
    assertThat(condition(status, Conditions.READY).getReason()).isEqualTo("StableServing");
    assertThat(condition(status, Conditions.READY).getMessage()).startsWith("revision aaaa serves with 3/3 pods ready");
    assertThat(condition(status, Conditions.PROGRESSING).getStatus()).isEqualTo("True");
    assertThat(condition(status, Conditions.DEGRADED).getStatus()).isEqualTo("False");
    assertThat(condition(status, Conditions.CANARY_HEALTHY).getReason()).isEqualTo("NotEvaluated");
    assertThat(status.getObservedGeneration()).isEqualTo(3L);
  }

  @Test
  void tooFewReplicasForTheStepsSayWhatTrafficReallyGetsAndHowToFixIt() {
    var stable = revision("aaaa", 3, 3);
    mdep.getSpec().setReplicas(3);
    var d = TransitionsForTests.of(Phase.Stable, "RevisionReady", "revision aaaa serves");
    d.stable = revisionStatus("aaaa", "d1");

    var coarse = statuses.decided(new ModelDeploymentStatus(), d,
        view("aaaa", new ModelDeploymentStatus(), Optional.of(stable), Optional.empty(), Optional.of(stable)));

    assertThat(condition(coarse, Conditions.TRAFFIC_SPLIT_EXACT).getStatus()).isEqualTo("False");
    assertThat(condition(coarse, Conditions.TRAFFIC_SPLIT_EXACT).getReason()).isEqualTo("TooFewReplicas");
    assertThat(condition(coarse, Conditions.TRAFFIC_SPLIT_EXACT).getMessage())
        .contains("send 33%, 67%, 100% of traffic", "set spec.replicas to 13 or more", "gatewayAPI");

    mdep.getSpec().setReplicas(20);
    var enough = statuses.decided(new ModelDeploymentStatus(), d,
        view("aaaa", new ModelDeploymentStatus(), Optional.of(stable), Optional.empty(), Optional.of(stable)));
    assertThat(condition(enough, Conditions.TRAFFIC_SPLIT_EXACT).getStatus()).isEqualTo("True");
    assertThat(condition(enough, Conditions.TRAFFIC_SPLIT_EXACT).getReason()).isEqualTo("EnoughReplicas");
  }

  @Test
  void nothingServingAndPodsThatCannotBeCreatedIsNotReadyAndSaysWhy() {
    Deployment refused = deployment("cccc", 2, 0);
    refused.getStatus().setConditions(List.of(new DeploymentConditionBuilder().withType("ReplicaFailure")
        .withStatus("True").withReason("FailedCreate").withMessage("no PriorityClass with name gpu").build()));
    var target = new ObservedRevision("cccc", refused, List.of());
    var d = TransitionsForTests.of(Phase.Failed, "PodsNotCreated", "revision cccc: pods cannot be created");

    var status = statuses.decided(new ModelDeploymentStatus(), d,
        view("cccc", new ModelDeploymentStatus(), Optional.empty(), Optional.empty(), Optional.of(target)));

    assertThat(condition(status, Conditions.READY).getStatus()).isEqualTo("False");
    assertThat(condition(status, Conditions.READY).getReason()).isEqualTo("PodsNotCreated");
    assertThat(condition(status, Conditions.ARTIFACT_RESOLVED).getStatus()).isEqualTo("Unknown");
    assertThat(condition(status, Conditions.ARTIFACT_RESOLVED).getMessage())
        .contains("no pod can fetch it", "no PriorityClass with name gpu");
    assertThat(condition(status, Conditions.DEGRADED).getStatus()).isEqualTo("True");
  }

  @Test
  void aRolledBackTargetIsNotSaidToBeFetchingAndTheServingArtifactIsNamed() {
    var stable = revision("aaaa", 3, 3);
    var d = TransitionsForTests.of(Phase.Degraded, "RolledBack", "revision bbbb was rolled back");
    d.stable = revisionStatus("aaaa", "feedbeef");
    d.failedRevision = "bbbb";

    var status = statuses.decided(new ModelDeploymentStatus(), d,
        view("bbbb", new ModelDeploymentStatus(), Optional.of(stable), Optional.empty(), Optional.empty()));

    var artifact = condition(status, Conditions.ARTIFACT_RESOLVED);
    assertThat(artifact.getStatus()).isEqualTo("True");
    assertThat(artifact.getReason()).isEqualTo("TargetRolledBack");
    assertThat(artifact.getMessage()).isEqualTo("revision bbbb failed its rollout and is not deployed; revision aaaa"
        + " serves s3://models/iris/1/ (version -, sha256 feedbeef)");
    assertThat(condition(status, Conditions.READY).getStatus()).isEqualTo("True");
  }

  @Test
  void aSpecThatCannotBeDeployedKeepsTheServingRevisionAndSaysSo() {
    var stable = revision("aaaa", 2, 2);
    var previous = new ModelDeploymentStatus();
    previous.setPhase(Phase.Stable);
    previous.setStable(revisionStatus("aaaa", "d1"));

    var status = statuses.notDeployable(mdep, previous, Optional.of(stable), "InvalidSpec", "spec.resources.cpu 'x'");

    assertThat(status.getPhase()).isEqualTo(Phase.Degraded);
    assertThat(status.getStable().getDigest()).isEqualTo("d1");
    assertThat(condition(status, Conditions.READY).getMessage())
        .isEqualTo("spec.resources.cpu 'x'; revision aaaa keeps serving");
    assertThat(condition(status, Conditions.PROGRESSING).getStatus()).isEqualTo("False");
    assertThat(condition(status, Conditions.DEGRADED).getStatus()).isEqualTo("True");
  }

  @Test
  void aConditionKeepsItsTransitionTimeWhileItsStatusStays() {
    var stable = revision("aaaa", 2, 2);
    var d = TransitionsForTests.of(Phase.Stable, "RevisionReady", "revision aaaa serves with 2/2 pods ready");
    d.stable = revisionStatus("aaaa", "d1");
    var earlier = new StatusAggregator(Clock.fixed(NOW.minusSeconds(600), ZoneOffset.UTC));
    var first = earlier.decided(new ModelDeploymentStatus(), d,
        view("aaaa", new ModelDeploymentStatus(), Optional.of(stable), Optional.empty(), Optional.of(stable)));

    var second = statuses.decided(first, d,
        view("aaaa", first, Optional.of(stable), Optional.empty(), Optional.of(stable)));

    assertThat(condition(second, Conditions.READY).getLastTransitionTime())
        .isEqualTo(NOW.minusSeconds(600).toString());
    assertThat(condition(second, Conditions.READY).getReason()).isEqualTo("RevisionReady");
  }

  @Test
  void autoscalingSaysWhetherTheAutoscalerCanScaleAndWhatItNeedsWhenItCannot() {
    var withoutAutoscaling = statuses.autoscaled(new ModelDeploymentStatus(), new ModelDeploymentStatus(), mdep,
        Optional.empty());
    assertThat(withoutAutoscaling.getConditions()).as("no autoscaling, no condition").isEmpty();

    var autoscaling = new io.modelship.operator.api.spec.AutoscalingSpec();
    autoscaling.setMaxReplicas(5);
    autoscaling.setMetric(io.modelship.operator.api.spec.AutoscalingSpec.QUEUE_DEPTH);
    autoscaling.setTarget(4);
    mdep.getSpec().setAutoscaling(autoscaling);

    assertThat(autoscalingCondition(Optional.empty()).getReason()).isEqualTo("AutoscalerPending");
    var hpa = new io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBuilder()
        .withNewMetadata().withName("iris").endMetadata().build();
    assertThat(autoscalingCondition(Optional.of(hpa)).getReason()).as("made, not yet read").isEqualTo("AutoscalerNotSynced");

    hpa.setStatus(new io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerStatusBuilder()
        .withDesiredReplicas(3)
        .addNewCondition().withType("AbleToScale").withStatus("True").withReason("ReadyForNewScale").endCondition()
        .addNewCondition().withType("ScalingActive").withStatus("False").withReason("FailedGetPodsMetric")
        .withMessage("unable to get metric modelship_inference_queue_depth").endCondition()
        .build());
    var cannot = autoscalingCondition(Optional.of(hpa));
    assertThat(cannot.getStatus()).isEqualTo("False");
    assertThat(cannot.getReason()).isEqualTo("FailedGetPodsMetric");
    assertThat(cannot.getMessage()).isEqualTo("HorizontalPodAutoscaler iris: unable to get metric"
        + " modelship_inference_queue_depth; scaling on queueDepth needs the custom metrics API serving"
        + " modelship_inference_queue_depth per pod (e.g. prometheus-adapter)");

    hpa.getStatus().getConditions().get(0).setStatus("False");
    hpa.getStatus().getConditions().get(0).setReason("FailedGetScale");
    hpa.getStatus().getConditions().get(0).setMessage("the HPA controller was unable to get the target's current scale");
    assertThat(autoscalingCondition(Optional.of(hpa)).getReason()).as("the first verdict that stops it")
        .isEqualTo("FailedGetScale");

    hpa.getStatus().getConditions().get(0).setStatus("True");
    hpa.getStatus().getConditions().get(1).setStatus("True");
    hpa.getStatus().getConditions().get(1).setReason("ValidMetricFound");
    var scaling = autoscalingCondition(Optional.of(hpa));
    assertThat(scaling.getStatus()).isEqualTo("True");
    assertThat(scaling.getMessage()).isEqualTo("HorizontalPodAutoscaler iris scales between 1 and 5 pods on queueDepth;"
        + " it asks for 3");
  }

  private Condition autoscalingCondition(Optional<io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler> hpa) {
    return condition(statuses.autoscaled(new ModelDeploymentStatus(), new ModelDeploymentStatus(), mdep, hpa),
        Conditions.AUTOSCALING);
  }
}
