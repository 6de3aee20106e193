package io.modelship.operator.api.status;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
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
  private RevisionStatus canary;

  @JsonPropertyDescription("Ready, ArtifactResolved, Progressing and Degraded, per the Kubernetes API conventions.")
  private List<Condition> conditions = new ArrayList<>();

  public Long getObservedGeneration() { return observedGeneration; }
  public void setObservedGeneration(Long observedGeneration) { this.observedGeneration = observedGeneration; }
  public Phase getPhase() { return phase; }
  public void setPhase(Phase phase) { this.phase = phase; }
  public RevisionStatus getStable() { return stable; }
  public void setStable(RevisionStatus stable) { this.stable = stable; }
  public RevisionStatus getCanary() { return canary; }
  public void setCanary(RevisionStatus canary) { this.canary = canary; }
  public List<Condition> getConditions() { return conditions; }
  public void setConditions(List<Condition> conditions) { this.conditions = conditions; }
}
