package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

public class ModelDeploymentSpec {
  @Required
  @JsonPropertyDescription("The model to serve and where its artifact comes from.")
  private ModelSpec model;

  @Min(0)
  @Max(1000)
  @Default("1")
  @JsonPropertyDescription("Number of model-server pods of the stable revision. Changing it never starts a new revision.")
  private Integer replicas = 1;

  @JsonPropertyDescription("CPU, memory and GPU for each model-server pod.")
  private ResourcesSpec resources;

  @JsonPropertyDescription("Where the model-server pods may run: passed through to the pod spec.")
  private SchedulingSpec scheduling;

  @JsonPropertyDescription("Model-server settings: image override, extra environment, batching, warm-up, API key.")
  private ServerSpec server;

  @JsonPropertyDescription("How a new revision replaces the stable one: traffic steps, health gates, deadlines.")
  private RolloutSpec rollout;

  @JsonPropertyDescription("Who may reach the model-server pods: a NetworkPolicy kept by the operator, on by default.")
  private NetworkPolicySpec networkPolicy;

  public RolloutSpec getRollout() { return rollout; }
  public NetworkPolicySpec getNetworkPolicy() { return networkPolicy; }
  public void setNetworkPolicy(NetworkPolicySpec networkPolicy) { this.networkPolicy = networkPolicy; }
  public void setRollout(RolloutSpec rollout) { this.rollout = rollout; }
  public ModelSpec getModel() { return model; }
  public void setModel(ModelSpec model) { this.model = model; }
  public Integer getReplicas() { return replicas; }
  public void setReplicas(Integer replicas) { this.replicas = replicas; }
  public ResourcesSpec getResources() { return resources; }
  public void setResources(ResourcesSpec resources) { this.resources = resources; }
  public SchedulingSpec getScheduling() { return scheduling; }
  public void setScheduling(SchedulingSpec scheduling) { this.scheduling = scheduling; }
  public ServerSpec getServer() { return server; }
  public void setServer(ServerSpec server) { this.server = server; }
}
