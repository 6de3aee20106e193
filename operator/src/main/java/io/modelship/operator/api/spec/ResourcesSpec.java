package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Quantity;

public class ResourcesSpec {
  @JsonPropertyDescription("CPU request of the model-server container, e.g. \"2\" or \"500m\". No CPU limit is set, so inference is never throttled.")
  private Quantity cpu;

  @JsonPropertyDescription("Memory request and limit of the model-server container, e.g. \"4Gi\".")
  private Quantity memory;

  @JsonPropertyDescription("GPUs for each model-server pod.")
  private GpuSpec gpu;

  public Quantity getCpu() { return cpu; }
  public void setCpu(Quantity cpu) { this.cpu = cpu; }
  public Quantity getMemory() { return memory; }
  public void setMemory(Quantity memory) { this.memory = memory; }
  public GpuSpec getGpu() { return gpu; }
  public void setGpu(GpuSpec gpu) { this.gpu = gpu; }
}
