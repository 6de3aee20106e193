package io.modelship.operator.packaging;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRule;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The permissions the Helm chart gives the operator's service account, as rendered, and what the apiserver's RBAC
 * authorizer would make of an HTTP request against them. Lets tests check the requests the operator really makes
 * (recorded by a mock apiserver) against the chart, instead of a list someone keeps by hand.
 */
public final class ChartRbac {
  public static final String RELEASE = "modelship-operator";
  /** The release namespace: the operator's own namespace, where its leader-election Lease lives. */
  public static final String NAMESPACE = "modelship-system";

  /**
   * Granted to every authenticated user by Kubernetes' default cluster roles, so the chart need not: discovery and
   * /version (system:discovery, system:public-info-viewer), and asking what one may do (system:basic-user), which
   * java-operator-sdk does before it takes part in leader election.
   */
  private static final Set<String> EVERY_USER_MAY_CREATE = Set.of(
      "authorization.k8s.io/selfsubjectrulesreviews", "authorization.k8s.io/selfsubjectaccessreviews");

  private final List<PolicyRule> clusterRules;
  private final List<PolicyRule> namespaceRules;

  private ChartRbac(List<PolicyRule> clusterRules, List<PolicyRule> namespaceRules) {
    this.clusterRules = clusterRules;
    this.namespaceRules = namespaceRules;
  }

  /** The chart rendered with its defaults changed by {@code values} (e.g. {@code leaderElection.enabled=true}). */
  public static ChartRbac render(Map<String, Object> values) {
    UnaryOperator<TemplateCommand> set = t -> {
      values.forEach(t::set);
      return t;
    };
    String yaml = set.apply(new Helm(RepoPaths.chart()).template().withName(RELEASE).withNamespace(NAMESPACE)).call();
    List<HasMetadata> objects = Manifests.parse(yaml);
    List<PolicyRule> cluster = Manifests.ofKind(objects, ClusterRole.class).stream()
        .flatMap(r -> r.getRules().stream()).toList();
    List<PolicyRule> namespaced = Manifests.ofKind(objects, Role.class).stream()
        .filter(r -> NAMESPACE.equals(r.getMetadata().getNamespace()))
        .flatMap(r -> r.getRules().stream()).toList();
    return new ChartRbac(cluster, namespaced);
  }

  public List<PolicyRule> clusterRules() {
    return clusterRules;
  }

  public List<PolicyRule> namespaceRules() {
    return namespaceRules;
  }

  /** What the authorizer decides for {@code access}. */
  public boolean allows(Access access) {
    if (access.nonResourcePath() != null) {
      // Discovery and /version only; the operator asks for no other path.
      return access.nonResourcePath().equals("/version") || access.nonResourcePath().startsWith("/api");
    }
    if (access.verb().equals("create") && EVERY_USER_MAY_CREATE.contains(access.group() + "/" + access.resource())) {
      return true;
    }
    if (clusterRules.stream().anyMatch(r -> matches(r, access))) {
      return true;
    }
    return NAMESPACE.equals(access.namespace()) && namespaceRules.stream().anyMatch(r -> matches(r, access));
  }

  /** Whether {@code rule} grants {@code access}, as RBAC matches it. */
  public static boolean matches(PolicyRule rule, Access access) {
    return anyOf(rule.getApiGroups(), access.group())
        && anyOf(rule.getResources(), access.resource())
        && anyOf(rule.getVerbs(), access.verb())
        // A rule limited to names never grants list, watch or create: the name is not known when those are asked.
        && (rule.getResourceNames() == null || rule.getResourceNames().isEmpty()
            || (access.name() != null && rule.getResourceNames().contains(access.name())));
  }

  private static boolean anyOf(List<String> granted, String asked) {
    return granted != null && (granted.contains(asked) || granted.contains("*"));
  }

  /** The answer to a SelfSubjectRulesReview for {@code namespace}, as the apiserver gives it. */
  public List<ResourceRule> rulesIn(String namespace) {
    List<PolicyRule> rules = new ArrayList<>(clusterRules);
    if (NAMESPACE.equals(namespace)) {
      rules.addAll(namespaceRules);
    }
    return rules.stream().map(r -> new ResourceRuleBuilder()
        .withApiGroups(r.getApiGroups())
        .withResources(r.getResources())
        .withResourceNames(r.getResourceNames() == null ? List.of() : r.getResourceNames())
        .withVerbs(r.getVerbs())
        .build()).toList();
  }

  /**
   * One request as the RBAC authorizer sees it: a verb on a resource (with its subresource, "pods/proxy"), in a
   * namespace or cluster-wide, by name or not; or a non-resource path such as /version.
   */
  public record Access(String verb, String group, String resource, String namespace, String name, String nonResourcePath) {
    /**
     * What an HTTP request to the apiserver asks for, following the apiserver's own request-info rules. A
     * server-side apply is a PATCH that creates the object when it is absent, and the apiserver then authorizes
     * create as well: it asks for both.
     */
    public static List<Access> of(String method, String pathAndQuery, String contentType) {
      String[] parts = pathAndQuery.split("\\?", 2);
      String path = parts[0];
      boolean watch = parts.length > 1 && Arrays.stream(parts[1].split("&"))
          .anyMatch(p -> p.equals("watch=true") || p.equals("watch=1"));
      List<String> segments = Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toList();
      String group;
      List<String> rest;
      if (segments.size() >= 2 && segments.get(0).equals("api")) {
        group = "";
        rest = segments.subList(2, segments.size());
      } else if (segments.size() >= 3 && segments.get(0).equals("apis")) {
        group = segments.get(1);
        rest = segments.subList(3, segments.size());
      } else {
        return List.of(new Access(method.toLowerCase(), null, null, null, null, path));
      }
      if (rest.isEmpty()) {
        return List.of(new Access(method.toLowerCase(), null, null, null, null, path));
      }
      String namespace = null;
      if (rest.get(0).equals("namespaces") && rest.size() >= 3) {
        namespace = rest.get(1);
        rest = rest.subList(2, rest.size());
      }
      String resource = rest.get(0) + (rest.size() > 2 ? "/" + rest.get(2) : "");
      String name = rest.size() > 1 ? rest.get(1) : null;
      List<String> verbs = switch (method) {
        case "GET" -> List.of(watch ? "watch" : name == null ? "list" : "get");
        case "POST" -> List.of("create");
        case "PUT" -> List.of("update");
        case "PATCH" -> contentType != null && contentType.startsWith("application/apply-patch")
            ? List.of("patch", "create") : List.of("patch");
        case "DELETE" -> List.of(name == null ? "deletecollection" : "delete");
        default -> throw new IllegalArgumentException("unexpected method " + method + " " + pathAndQuery);
      };
      String ns = namespace;
      return verbs.stream().map(v -> new Access(v, group, resource, ns, name, null)).toList();
    }

    /** "verb group/resource" with the namespace and name when there are: for failure messages. */
    @Override
    public String toString() {
      if (nonResourcePath != null) {
        return verb + " " + nonResourcePath;
      }
      return verb + " " + (group.isEmpty() ? "" : group + "/") + resource
          + (namespace != null ? " in " + namespace : " cluster-wide") + (name != null ? " named " + name : "");
    }
  }
}
