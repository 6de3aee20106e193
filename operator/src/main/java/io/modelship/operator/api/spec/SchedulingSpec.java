package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

public class SchedulingSpec {
  @JsonPropertyDescription("Node labels the model-server pods must match.")
  private Map<String, String> nodeSelector;

  @JsonPropertyDescription("Taints the model-server pods tolerate. A toleration for nvidia.com/gpu is added by itself when GPUs are requested.")
  private List<Toleration> tolerations;

  @JsonPropertyDescription("Node and pod (anti-)affinity of the model-server pods.")
  private Affinity affinity;

  @JsonPropertyDescription("PriorityClass of the model-server pods.")
  private String priorityClassName;

  @JsonPropertyDescription("RuntimeClass of the model-server pods (e.g. nvidia).")
  private String runtimeClassName;

  public Map<String, String> getNodeSelector() { return nodeSelector; }
  public void setNodeSelector(Map<String, String> nodeSelector) { this.nodeSelector = nodeSelector; }
  public List<Toleration> getTolerations() { return tolerations; }
  public void setTolerations(List<Toleration> tolerations) { this.tolerations = tolerations; }
  public Affinity getAffinity() { return affinity; }
  public void setAffinity(Affinity affinity) { this.affinity = affinity; }
  public String getPriorityClassName() { return priorityClassName; }
  public void setPriorityClassName(String priorityClassName) { this.priorityClassName = priorityClassName; }
  public String getRuntimeClassName() { return runtimeClassName; }
  public void setRuntimeClassName(String runtimeClassName) { this.runtimeClassName = runtimeClassName; }
}
