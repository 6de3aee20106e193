package io.modelship.operator.shadow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.ShadowSpec;
import io.modelship.operator.resources.AdminToken;
import io.modelship.operator.testing.OperatorHarness;
import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.serve.ModelServer;
import io.modelship.server.serve.ServeHooks;
import io.modelship.server.serve.ServeOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's side of shadow traffic against a real model server on 127.0.0.1, which plays a stable pod: the
 * token Secret is created once, the order reaches the server with it, and the end of a rollout turns it off.
 */
class ShadowControlTest {
  @TempDir Path tmp;

  @Test
  void theTokenSecretIsCreatedOnceAndTheServerFollowsTheOrders() throws Exception {
    try (var api = new OperatorHarness(); ShadowControl control = new ShadowControl(0)) {
      var mdep = new ModelDeployment();
      mdep.setMetadata(new ObjectMetaBuilder().withName("iris").withNamespace("ml").withUid("uid-1").build());
      control.ensureToken(api.client, mdep);
      control.ensureToken(api.client, mdep);
      var secret = api.client.secrets().inNamespace("ml").withName(AdminToken.secretName(mdep)).get();
      String token = secret.getData() != null && secret.getData().get(AdminToken.KEY) != null
          ? new String(Base64.getDecoder().decode(secret.getData().get(AdminToken.KEY)), StandardCharsets.UTF_8)
          : secret.getStringData().get(AdminToken.KEY);
      assertThat(token).hasSize(64);

      Path dir = Files.createDirectories(tmp.resolve("model"));
      OnnxModels.writeMlp(dir, OnnxModels.Mlp.small());
      Path tokenFile = tmp.resolve("token");
      Files.writeString(tokenFile, token);
      ModelServer server = ModelServer.start(ServeOptions.defaults(dir, 0).withWarmupHttpRequests(0)
          .withAdminTokenFile(tokenFile).withListen("127.0.0.1", 0), ServeHooks.NONE);
      try {
        ShadowControl toServer = new ShadowControl(server.port());
        Pod pod = new PodBuilder().withNewMetadata().withName("iris-stable-1").withUid("pod-1").endMetadata()
            .withNewStatus().withPodIP("127.0.0.1").addNewCondition().withType("Ready").withStatus("True").endCondition()
            .endStatus().build();
        var spec = new ShadowSpec();
        spec.setShare(0.5);
        toServer.sync(api.client, mdep, List.of(pod), Optional.of(ShadowControl.Target.of(mdep, "c1", spec)), false);
        // The server takes the order before the control records its answer: wait for both.
        await().atMost(Duration.ofSeconds(20)).until(() -> toServer.mirroring("pod-1"));
        assertThat(shadow(server.port(), token))
            .contains("\"enabled\":true").contains("\"target\":\"http://iris-c1.ml.svc\"")
            .contains("\"version\":\"c1\"").contains("\"share\":0.5");
        long calls = toServer.calls();
        toServer.sync(api.client, mdep, List.of(pod), Optional.of(ShadowControl.Target.of(mdep, "c1", spec)), false);
        assertThat(toServer.calls()).as("an acknowledged order is not sent again").isEqualTo(calls);

        toServer.sync(api.client, mdep, List.of(pod), Optional.empty(), false);
        await().atMost(Duration.ofSeconds(20)).until(() -> !toServer.mirroring("pod-1"));
        assertThat(shadow(server.port(), token)).isEqualTo("{\"enabled\":false}");
        toServer.close();
      } finally {
        server.shutdown();
      }
    }
  }

  private static String shadow(int port, String token) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/shadow"))
        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString()).body();
  }
}
