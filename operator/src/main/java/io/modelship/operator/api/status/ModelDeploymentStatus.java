package io.modelship.operator.api.status;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.model.annotation.LabelSelector;
import io.fabric8.kubernetes.model.annotation.StatusReplicas;
import java.util.ArrayList;
import java.util.List;

public class ModelDeploymentStatus {
  @JsonPropertyDescription("The metadata.generation this status was computed from.")
  private Long observedGeneration;

  @JsonPropertyDescription("Pending, Progressing, Paused, Stable, RollingBack, Degraded or Failed.")
  private Phase phase;

  @JsonPropertyDescription("The revision serving traffic.")
  private RevisionStatus stable;

  @JsonPropertyDescription("The revision the spec asks for while it is coming up beside the stable one.")
  private CanaryStatus canary;

  @JsonPropertyDescription("A revision that failed its rollout; it is not tried again until the source or the pod spec changes, or the modelship.io/retry annotation is set.")
  private String failedRevision;

  @JsonPropertyDescription("For a moving source (an MLflow alias): the version it was pinned to and when the registry was read.")
  private TrackingStatus tracking;

  @StatusReplicas
  @JsonPropertyDescription("Model-server pods of this ModelDeployment, every revision together (what its scale"
      + " subresource reports to an autoscaler).")
  private Integer replicas;

  @LabelSelector
  @JsonPropertyDescription("The label selector of every model-server pod of this ModelDeployment, as a string: the pods"
      + " an autoscaler averages its metric over.")
  private String selector;

  @JsonPropertyDescription("How recent rollouts ended, newest first (at most 10).")
  private List<HistoryEntry> history = new ArrayList<>();

  @JsonPropertyDescription("Ready, ArtifactResolved, Progressing and Degraded, per the Kubernetes API conventions.")
  private List<Condition> conditions = new ArrayList<>();

  public Long getObservedGeneration() { return observedGeneration; }
  public void setObservedGeneration(Long observedGeneration) { this.observedGeneration = observedGeneration; }
  public Phase getPhase() { return phase; }
  public void setPhase(Phase phase) { this.phase = phase; }
  public RevisionStatus getStable() { return stable; }
  public void setStable(RevisionStatus stable) { this.stable = stable; }
  public CanaryStatus getCanary() { return canary; }
  public void setCanary(CanaryStatus canary) { this.canary = canary; }
  public String getFailedRevision() { return failedRevision; }
  public void setFailedRevision(String failedRevision) { this.failedRevision = failedRevision; }
  public TrackingStatus getTracking() { return tracking; }
  public void setTracking(TrackingStatus tracking) { this.tracking = tracking; }
  public Integer getReplicas() { return replicas; }
  public void setReplicas(Integer replicas) { this.replicas = replicas; }
  public String getSelector() { return selector; }
  public void setSelector(String selector) { this.selector = selector; }
  public List<HistoryEntry> getHistory() { return history; }
  public void setHistory(List<HistoryEntry> history) { this.history = history; }
  public List<Condition> getConditions() { return conditions; }
  public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
}
