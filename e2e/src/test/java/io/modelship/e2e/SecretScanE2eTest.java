package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.modelship.operator.api.status.HistoryEntry.Outcome;
import io.modelship.operator.api.status.Phase;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * No secret in anything a cluster user can read, on the real cluster: after a ModelDeployment has served with an
 * API key, clients have sent a wrong key and none, and a rollout has failed to fetch with a wrong S3 secret key,
 * every log of every container that ran (the fetch init containers, the model servers, the operator), every Event
 * and the ModelDeployment itself are scanned for the S3 keys, the API key, the key a client guessed and the admin
 * token, as written and base64-encoded. The operator tier's SecretLeakScenarioTest does the same for hostile
 * servers; this one is the pods' own logs, which that tier does not have.
 */
@ExtendWith({RealCluster.Extension.class, Diagnostics.class})
class SecretScanE2eTest {
  private static final String NAMESPACE = "e2e-secrets";
  private static final String API_KEY = "e2e-api-key-never-logged-7f3a";
  private static final String GUESSED_KEY = "e2e-guessed-key-never-logged-91c2";
  private static final String WRONG_SECRET_KEY = "e2e-wrong-secret-key-never-logged-5d1e";

  @RegisterExtension
  static final TestNamespace ns = new TestNamespace(NAMESPACE);

  @Test
  void noSecretInAnyLogEventOrStatusAfterServingAndFailing() throws Exception {
    String v1 = ns.store().putMlp("secrets/1", new Mlp(4, 16, 1, 3, 31));
    String v2 = ns.store().putMlp("secrets/2", new Mlp(4, 16, 1, 3, 32));
    secret("api-key", Map.of("api-key", API_KEY));
    secret("s3-wrong", Map.of("AWS_ACCESS_KEY_ID", ModelStore.ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", WRONG_SECRET_KEY));
    var mdep = Specs.steps(Specs.s3(NAMESPACE, "vault", ns.store(), v1, 1), 50, "5s", 100, null);
    mdep.getSpec().getServer().setApiKeySecret("api-key");
    ns.cluster().client().resource(mdep).create();
    var vault = new Mdeps(ns.cluster(), NAMESPACE, "vault");
    await("v1 stable").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
      assertThat(vault.phase()).isEqualTo(Phase.Stable);
      assertThat(vault.stable().getReadyReplicas()).isEqualTo(1);
    });

    // Clients: the right key in either header, a guessed key, none.
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    URI infer = URI.create("http://" + vault.clusterIp() + "/v2/models/vault/infer");
    // Until kube-proxy has the Service's endpoint, a connection to its address is refused.
    await("the Service answers").atMost(Duration.ofMinutes(1)).ignoreExceptionsInstanceOf(java.io.IOException.class)
        .untilAsserted(() -> assertThat(post(http, infer, "X-API-Key", API_KEY)).isEqualTo(200));
    assertThat(post(http, infer, "Authorization", "Bearer " + API_KEY)).isEqualTo(200);
    assertThat(post(http, infer, "X-API-Key", GUESSED_KEY)).isEqualTo(401);
    assertThat(post(http, infer, "Authorization", "Bearer " + GUESSED_KEY)).isEqualTo(401);
    assertThat(post(http, infer, null, null)).isEqualTo(401);

    // A rollout whose pods fetch with a wrong secret key: the S3 server refuses them, the rollout goes back.
    vault.edit(m -> {
      m.getSpec().getModel().getSource().getS3().setUri(v2);
      m.getSpec().getModel().getSource().getS3().setCredentialsSecret("s3-wrong");
    });
    // The canary's pods go when it is rolled back, and their logs with them: read them while they are there.
    Map<String, String> outputs = new LinkedHashMap<>();
    await("the rollout that cannot fetch is rolled back").atMost(Duration.ofMinutes(3)).untilAsserted(() -> {
      for (Pod pod : ns.cluster().client().pods().inNamespace(NAMESPACE).list().getItems()) {
        collectLogs(pod, outputs);
      }
      assertThat(vault.status().getHistory()).first().satisfies(h -> {
        assertThat(h.getOutcome()).isEqualTo(Outcome.RolledBack);
        assertThat(h.getReason()).startsWith("FetchFailed");
      });
    });
    assertThat(post(http, infer, "X-API-Key", API_KEY)).as("v1 serves on").isEqualTo(200);

    Map<String, String> secrets = new LinkedHashMap<>();
    secrets.put("S3 access key id", ModelStore.ACCESS_KEY);
    secrets.put("S3 secret key", ModelStore.SECRET_KEY);
    secrets.put("wrong S3 secret key", WRONG_SECRET_KEY);
    secrets.put("API key", API_KEY);
    secrets.put("guessed API key", GUESSED_KEY);
    var admin = ns.cluster().client().secrets().inNamespace(NAMESPACE).withName("vault-modelship-admin").get();
    if (admin != null && admin.getData() != null && admin.getData().get("token") != null) {
      secrets.put("admin token", new String(Base64.getDecoder().decode(admin.getData().get("token")),
          StandardCharsets.UTF_8).strip());
    }
    for (var entry : List.copyOf(secrets.entrySet())) {
      secrets.put(entry.getKey() + " (base64)",
          Base64.getEncoder().encodeToString(entry.getValue().getBytes(StandardCharsets.UTF_8)));
    }

    List<Pod> pods = new ArrayList<>(ns.cluster().client().pods().inNamespace(NAMESPACE).list().getItems());
    pods.addAll(ns.cluster().client().pods().inNamespace(RealCluster.OPERATOR_NAMESPACE).list().getItems());
    for (Pod pod : pods) {
      collectLogs(pod, outputs);
    }
    outputs.put("Events in " + NAMESPACE, ns.cluster().kubectl("get", "events", "-n", NAMESPACE, "-o", "yaml"));
    outputs.put("ModelDeployment vault", ns.cluster().kubectl("get", "mdep", "vault", "-n", NAMESPACE, "-o", "yaml"));

    String fetchLogs = outputs.entrySet().stream().filter(e -> e.getKey().contains("/fetch"))
        .map(Map.Entry::getValue).reduce("", String::concat);
    assertThat(fetchLogs).as("the failed fetch left its log").contains("access denied");
    assertThat(outputs.keySet()).as("operator and model-server logs were read")
        .anyMatch(k -> k.startsWith(RealCluster.OPERATOR_NAMESPACE + "/"))
        .anyMatch(k -> k.contains("/model-server"));
    long lines = outputs.values().stream().mapToLong(text -> text.lines().count()).sum();
    List<String> leaks = new ArrayList<>();
    for (var output : outputs.entrySet()) {
      for (var secret : secrets.entrySet()) {
        if (output.getValue().contains(secret.getValue())) {
          leaks.add(secret.getKey() + " in " + output.getKey());
        }
      }
    }
    RealCluster.progress("SecretScanE2eTest: %d outputs, %d lines scanned for %d values".formatted(outputs.size(),
        lines, secrets.size()));
    assertThat(leaks).as("secrets found").isEmpty();
  }

  private static void secret(String name, Map<String, String> data) {
    ns.cluster().client().resource(new SecretBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE)
        .endMetadata().addToStringData(data).build()).serverSideApply();
  }

  private static int post(HttpClient http, URI uri, String header, String value) throws Exception {
    var request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(Traffic.IRIS_BODY));
    if (header != null) {
      request.header(header, value);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString()).statusCode();
  }

  /** A log read again replaces the one read before unless it is shorter (its pod went meanwhile). */
  private static void keep(Map<String, String> outputs, String key, String log) {
    String text = log == null ? "" : log;
    outputs.merge(key, text, (before, now) -> now.length() >= before.length() ? now : before);
  }

  /** Every container's log, and the previous instance's where a container restarted. */
  private static void collectLogs(Pod pod, Map<String, String> outputs) {
    String namespace = pod.getMetadata().getNamespace();
    String name = pod.getMetadata().getName();
    var spec = pod.getSpec();
    List<Container> containers = new ArrayList<>(spec.getInitContainers() == null ? List.of() : spec.getInitContainers());
    containers.addAll(spec.getContainers());
    List<ContainerStatus> statuses = pod.getStatus() == null ? List.of() : Stream.concat(
        pod.getStatus().getInitContainerStatuses() == null ? Stream.empty() : pod.getStatus().getInitContainerStatuses().stream(),
        pod.getStatus().getContainerStatuses() == null ? Stream.empty() : pod.getStatus().getContainerStatuses().stream())
        .toList();
    for (Container container : containers) {
      var pods = ns.cluster().client().pods().inNamespace(namespace).withName(name);
      String key = namespace + "/" + name + "/" + container.getName();
      try {
        keep(outputs, key, pods.inContainer(container.getName()).getLog());
      } catch (RuntimeException e) {
        keep(outputs, key, ""); // not started (e.g. waiting behind a failed init container), or gone
      }
      boolean restarted = statuses.stream().anyMatch(s -> s.getName().equals(container.getName())
          && s.getRestartCount() != null && s.getRestartCount() > 0);
      if (restarted) {
        try {
          keep(outputs, key + " (previous)", pods.inContainer(container.getName()).terminated().getLog());
        } catch (RuntimeException e) {
          keep(outputs, key + " (previous)", "");
        }
      }
    }
  }
}
