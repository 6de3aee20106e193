package io.modelship.e2e;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.status.CanaryStatus;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.api.status.RevisionStatus;
import java.util.List;
import java.util.function.Consumer;

/**
 * One ModelDeployment of a test, read and changed the way a user's client does. Accessors are for use inside
 * await(): state that does not exist yet is an AssertionError, which Awaitility retries.
 */
final class Mdeps {
  private final RealCluster cluster;
  final String namespace;
  final String name;

  Mdeps(RealCluster cluster, String namespace, String name) {
    this.cluster = cluster;
    this.namespace = namespace;
    this.name = name;
  }

  ModelDeployment get() {
    ModelDeployment mdep = cluster.client().resources(ModelDeployment.class).inNamespace(namespace).withName(name).get();
    if (mdep == null) {
      throw new AssertionError("ModelDeployment " + namespace + "/" + name + " does not exist");
    }
    return mdep;
  }

  ModelDeploymentStatus status() {
    ModelDeploymentStatus status = get().getStatus();
    if (status == null) {
      throw new AssertionError(name + " has no status yet");
    }
    return status;
  }

  Phase phase() {
    return status().getPhase();
  }

  /** The stable revision as status records it; none yet is an AssertionError. */
  RevisionStatus stable() {
    RevisionStatus stable = status().getStable();
    if (stable == null) {
      throw new AssertionError(name + " has no stable revision in status yet");
    }
    return stable;
  }

  /** The canary as status records it; none (not started, or already promoted or rolled back) is an AssertionError. */
  CanaryStatus canary() {
    CanaryStatus canary = status().getCanary();
    if (canary == null) {
      throw new AssertionError(name + " has no canary in status");
    }
    return canary;
  }

  String condition(String type, String field) {
    var condition = status().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst()
        .orElseThrow(() -> new AssertionError(name + " has no " + type + " condition"));
    return switch (field) {
      case "reason" -> condition.getReason();
      case "message" -> condition.getMessage();
      default -> condition.getStatus();
    };
  }

  /**
   * Changes the spec as a user's kubectl edit would: read, change, write with the version read. The operator writes
   * status meanwhile, which moves the object's resourceVersion too, so a 409 Conflict is normal: read again and retry.
   */
  void edit(Consumer<ModelDeployment> change) {
    for (int attempt = 1; ; attempt++) {
      try {
        cluster.client().resources(ModelDeployment.class).inNamespace(namespace).withName(name).edit(m -> {
          change.accept(m);
          return m;
        });
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
  }

  void newSource(String uri) {
    edit(m -> m.getSpec().getModel().getSource().getS3().setUri(uri));
  }

  List<Event> events() {
    return cluster.client().v1().events().inNamespace(namespace).list().getItems().stream()
        .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
  }

  List<String> reasons() {
    return events().stream().map(Event::getReason).toList();
  }

  /** The ClusterIP of the client Service, where clients send their requests. */
  String clusterIp() {
    return cluster.client().services().inNamespace(namespace).withName(name).get().getSpec().getClusterIP();
  }

  /** Names of this ModelDeployment's revision Deployments. */
  List<String> revisionDeployments() {
    return cluster.client().apps().deployments().inNamespace(namespace).list().getItems().stream()
        .map(d -> d.getMetadata().getName()).filter(n -> n.startsWith(name + "-")).toList();
  }
}
