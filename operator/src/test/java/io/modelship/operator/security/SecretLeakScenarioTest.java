package io.modelship.operator.security;

import static io.modelship.operator.testing.OperatorHarness.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.resources.AdminToken;
import io.modelship.operator.testing.ModelDeployments;
import io.modelship.operator.testing.OperatorHarness;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Secrets the operator handles (S3 keys and MLflow tokens from users' Secrets, the admin token it makes) fed
 * through the paths that fail: a registry and an S3 endpoint that answer every request with an error whose body
 * repeats the request's Authorization header (and every header), and model-server pods that do the same on
 * /admin. Everything the operator produced meanwhile (every log line with its stack traces, every status, every
 * Event) is scanned: no secret value, nor the signed Authorization header, may appear.
 */
class SecretLeakScenarioTest {
  private static final String ACCESS_KEY = "AKIALEAKCHECK0000001";
  private static final String SECRET_KEY = "leak-check-secret-key-0123456789abcdef";
  private static final String MLFLOW_TOKEN = "leak-check-mlflow-token-fedcba9876543210";
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  private OperatorHarness k8s;
  private HttpServer hostile;
  private final AtomicInteger calls = new AtomicInteger();
  private final List<String> authorizations = java.util.Collections.synchronizedList(new ArrayList<>());
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

  @BeforeEach
  void start() throws Exception {
    logs.start();
    root.addAppender(logs);
    // Answers everything with an error that repeats every request header, the credentials among them.
    hostile = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    hostile.createContext("/", exchange -> {
      calls.incrementAndGet();
      StringBuilder echo = new StringBuilder("<Error><Code>AccessDenied</Code><Message>you sent");
      exchange.getRequestHeaders().forEach((name, values) -> {
        echo.append(' ').append(name).append('=').append(values);
        if (name.equalsIgnoreCase("Authorization")) {
          authorizations.addAll(values);
        }
      });
      echo.append("</Message></Error>");
      boolean mlflow = exchange.getRequestURI().getPath().contains("/api/2.0/mlflow/");
      // The registry says it in MLflow's error shape, whose message the operator does pass on.
      byte[] body = (mlflow
          ? "{\"error_code\":\"PERMISSION_DENIED\",\"message\":" + JSON.writeValueAsString(echo.toString()) + "}"
          : echo.toString()).getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", mlflow ? "application/json" : "application/xml");
      exchange.sendResponseHeaders(exchange.getRequestURI().getPath().contains("/admin/") ? 400 : 403, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    hostile.start();
    k8s = new OperatorHarness().start(config -> config.withModelServerPort(hostile.getAddress().getPort()));
    k8s.client.resource(new SecretBuilder().withNewMetadata().withName("s3-creds").withNamespace(NAMESPACE).endMetadata()
        .addToStringData("AWS_ACCESS_KEY_ID", ACCESS_KEY).addToStringData("AWS_SECRET_ACCESS_KEY", SECRET_KEY).build())
        .create();
    k8s.client.resource(new SecretBuilder().withNewMetadata().withName("mlflow-creds").withNamespace(NAMESPACE)
        .endMetadata().addToStringData("MLFLOW_TRACKING_TOKEN", MLFLOW_TOKEN).build()).create();
  }

  @AfterEach
  void stop() {
    root.detachAppender(logs);
    if (k8s != null) {
      k8s.close();
    }
    if (hostile != null) {
      hostile.stop(0);
    }
  }

  @Test
  void noSecretReachesALogLineAStatusOrAnEventWhenEveryCallFails() throws Exception {
    String endpoint = "http://127.0.0.1:" + hostile.getAddress().getPort();
    // An MLflow alias read with a token, from a registry that reflects it.
    var mlflow = ModelDeployments.mlflowAlias("tracked", endpoint, "champion", "10s");
    mlflow.getSpec().getModel().getSource().getMlflow().setCredentialsSecret("mlflow-creds");
    k8s.create(mlflow);
    // S3 latest listed with keys, from an endpoint that reflects the signed request.
    var latest = ModelDeployments.s3("listed", "s3://models/listed/");
    latest.getSpec().getModel().getSource().getS3().setVersion("latest");
    latest.getSpec().getModel().getSource().getS3().setEndpoint(endpoint);
    latest.getSpec().getModel().getSource().getS3().setCredentialsSecret("s3-creds");
    k8s.create(latest);
    // An in-place rollout whose pods reflect the admin token on /admin.
    var inPlace = ModelDeployments.steps(ModelDeployments.s3("placed", "s3://models/placed/1/"), 50, "1m", 100, null);
    inPlace.getSpec().getModel().getSource().getS3().setCredentialsSecret("s3-creds");
    inPlace.getSpec().getRollout().setStrategy("inPlace");
    k8s.create(inPlace);
    String host = k8s.awaitOtherRevision("placed", "");
    k8s.autoReady(host);
    Deployment deployment = k8s.deployment(host).orElseThrow();
    k8s.client.resource(new PodBuilder().withNewMetadata().withName(host + "-a").withNamespace(NAMESPACE)
        .withLabels(deployment.getSpec().getTemplate().getMetadata().getLabels()).endMetadata()
        .withNewStatus().withPhase("Running").withPodIP("127.0.0.1")
        .addNewCondition().withType("Ready").withStatus("True").endCondition().endStatus().build()).create();
    await().atMost(TIMEOUT).until(() -> k8s.phase("placed") == Phase.Stable);
    k8s.edit("placed", m -> m.getSpec().getModel().getSource().getS3().setUri("s3://models/placed/2/"));

    await("every failing path was taken").atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.reasons("tracked")).contains("RegistryReadFailed");
      assertThat(k8s.reasons("listed")).contains("RegistryReadFailed");
      assertThat(k8s.status("placed").getCanary()).isNotNull();
      assertThat(k8s.status("placed").getCanary().getPods()).isNotNull();
      assertThat(authorizations).anyMatch(a -> a.contains(MLFLOW_TOKEN))
          .anyMatch(a -> a.contains("Credential=" + ACCESS_KEY))
          .anyMatch(a -> a.startsWith("Bearer ") && !a.contains(MLFLOW_TOKEN));
    });
    String adminToken = adminToken("placed");
    assertThat(authorizations).as("the hostile pod got the admin token").anyMatch(a -> a.equals("Bearer " + adminToken));

    List<String> everything = new ArrayList<>();
    for (ILoggingEvent event : List.copyOf(logs.list)) {
      everything.add(event.getFormattedMessage());
      if (event.getThrowableProxy() != null) {
        everything.add(ThrowableProxyUtil.asString(event.getThrowableProxy()));
      }
    }
    for (String name : List.of("tracked", "listed", "placed")) {
      everything.add(Serialization.asJson(k8s.status(name)));
      k8s.events(name).forEach(e -> everything.add(e.getReason() + ": " + e.getMessage()));
    }
    System.out.printf("SecretLeakScenarioTest: %d hostile answers; %d log lines, statuses and Events scanned%n",
        calls.get(), everything.size());
    List<String> secrets = new ArrayList<>(List.of(ACCESS_KEY, SECRET_KEY, MLFLOW_TOKEN, adminToken));
    authorizations.stream().filter(a -> a.startsWith("AWS4-HMAC-SHA256")).map(a -> a.substring(a.indexOf("Signature=")))
        .forEach(secrets::add);
    for (String text : everything) {
      for (String secret : secrets) {
        assertThat(text).as("output that holds a secret").doesNotContain(secret);
      }
    }
  }

  private String adminToken(String name) {
    var secret = k8s.client.secrets().inNamespace(NAMESPACE).withName(AdminToken.secretName(k8s.get(name))).get();
    return secret.getData() != null && secret.getData().get(AdminToken.KEY) != null
        ? new String(Base64.getDecoder().decode(secret.getData().get(AdminToken.KEY)), StandardCharsets.UTF_8)
        : secret.getStringData().get(AdminToken.KEY);
  }
}
