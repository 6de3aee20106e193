package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

public class BatchingSpec {
  @Min(1)
  @Max(1024)
  @JsonPropertyDescription("Most requests (rows) concatenated into one inference. 1 turns batching off. Default 16 on CPU, 8 on a GPU.")
  private Integer maxBatchSize;

  @Pattern("^[0-9]+(ms|s)$")
  @JsonPropertyDescription("Longest a request waits for others to fill a batch, e.g. 2ms. Default 2ms.")
  private String maxDelay;

  public Integer getMaxBatchSize() { return maxBatchSize; }
  public void setMaxBatchSize(Integer maxBatchSize) { this.maxBatchSize = maxBatchSize; }
  public String getMaxDelay() { return maxDelay; }
  public void setMaxDelay(String maxDelay) { this.maxDelay = maxDelay; }
}
