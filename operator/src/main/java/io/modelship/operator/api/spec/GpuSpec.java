package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

public class GpuSpec {
  @Min(1)
  @Max(16)
  @JsonPropertyDescription("GPUs (or MIG slices, when migProfile is set) per pod. Required whenever gpu is set.")
  private Integer count;

  @Pattern("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
  @JsonPropertyDescription("GPU product to run on, matched against the node label nvidia.com/gpu.product (e.g. NVIDIA-A100-SXM4-40GB).")
  private String type;

  @Pattern("^[1-9]g\\.[0-9]+gb(\\+me)?$")
  @JsonPropertyDescription("MIG profile (e.g. 1g.5gb): requests nvidia.com/mig-<profile> instead of whole GPUs.")
  private String migProfile;

  public Integer getCount() { return count; }
  public void setCount(Integer count) { this.count = count; }
  public String getType() { return type; }
  public void setType(String type) { this.type = type; }
  public String getMigProfile() { return migProfile; }
  public void setMigProfile(String migProfile) { this.migProfile = migProfile; }
}
