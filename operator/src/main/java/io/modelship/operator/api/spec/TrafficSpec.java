package io.modelship.operator.api.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

@ValidationRule(value = "!(has(self.service) && has(self.gatewayAPI))", message = "set at most one of service or gatewayAPI")
public class TrafficSpec {
  @JsonPropertyDescription("No mesh needed: the client Service selects both revisions and the split follows their ready pods (coarse; status reports the effective weight).")
  private ServiceTraffic service;

  @JsonPropertyDescription("Exact weights through a Gateway API HTTPRoute that Modelship owns, with weighted backendRefs to the per-revision Services.")
  private GatewayApiTraffic gatewayAPI;

  public ServiceTraffic getService() { return service; }
  public void setService(ServiceTraffic service) { this.service = service; }
  public GatewayApiTraffic getGatewayAPI() { return gatewayAPI; }
  public void setGatewayAPI(GatewayApiTraffic gatewayAPI) { this.gatewayAPI = gatewayAPI; }

  /**
   * No settings yet: its presence picks the mode. The annotation is what lets Jackson write it back as {@code {}}:
   * a class with no properties and no Jackson annotation cannot be serialized, and a user's {@code service: {}}
   * failed every status write (found by SpecFuzzTest).
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ServiceTraffic {}

  public static class GatewayApiTraffic {
    @Required
    @Pattern("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
    @JsonPropertyDescription("Name of the HTTPRoute Modelship creates and owns in the ModelDeployment's namespace.")
    private String httpRoute;

    @Required
    @Size(min = 1, max = 8)
    @JsonPropertyDescription("Gateways (and listeners) the HTTPRoute attaches to.")
    private List<ParentRef> parentRefs;

    public String getHttpRoute() { return httpRoute; }
    public void setHttpRoute(String httpRoute) { this.httpRoute = httpRoute; }
    public List<ParentRef> getParentRefs() { return parentRefs; }
    public void setParentRefs(List<ParentRef> parentRefs) { this.parentRefs = parentRefs; }
  }

  public static class ParentRef {
    @Required
    @JsonPropertyDescription("Gateway name.")
    private String name;

    @JsonPropertyDescription("Gateway namespace. Default: the ModelDeployment's.")
    private String namespace;

    @JsonPropertyDescription("Listener of the Gateway to attach to.")
    private String sectionName;

    public String getName() { return name; }
    public void setName(String name) { this.name = name; }
    public String getNamespace() { return namespace; }
    public void setNamespace(String namespace) { this.namespace = namespace; }
    public String getSectionName() { return sectionName; }
    public void setSectionName(String sectionName) { this.sectionName = sectionName; }
  }
}
