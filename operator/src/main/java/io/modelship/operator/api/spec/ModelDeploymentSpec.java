package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.model.annotation.SpecReplicas;

@ValidationRule(value = "!has(self.autoscaling) || (has(self.autoscaling.metric) && self.autoscaling.metric != 'cpu')"
    + " || (has(self.resources) && has(self.resources.cpu))",
    message = "autoscaling on cpu keeps a utilisation of the pods' CPU request: set spec.resources.cpu, e.g. \"1\", or"
        + " scale on inFlight or queueDepth")
public class ModelDeploymentSpec {
  @Required
  @JsonPropertyDescription("The model to serve and where its artifact comes from.")
  private ModelSpec model;

  @Min(0)
  @Max(1000)
  @Default("1")
  @SpecReplicas
  @JsonPropertyDescription("Number of model-server pods of the stable revision; a rollout splits them between the"
      + " stable and the canary revision by the step's weight. Changing it never starts a new revision. With"
      + " autoscaling, the HorizontalPodAutoscaler writes it (through the scale subresource) within its bounds: leave"
      + " it out of the manifests you apply. 0 stops the autoscaler, as for a Deployment.")
  private Integer replicas = 1;

  @JsonPropertyDescription("Scale the pods with a HorizontalPodAutoscaler kept by the operator, on CPU or on the model"
      + " server's in-flight requests or queue depth, instead of fixed replicas. During a rollout the count is split"
      + " between the revisions by the step's weight.")
  private AutoscalingSpec autoscaling;

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
  public AutoscalingSpec getAutoscaling() { return autoscaling; }
  public void setAutoscaling(AutoscalingSpec autoscaling) { this.autoscaling = autoscaling; }
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
