package io.modelship.operator.source;

import static io.modelship.operator.testing.OperatorHarness.NAMESPACE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.TrackingSpec;
import io.modelship.operator.api.status.Phase;
import io.modelship.operator.revision.PodContract;
import io.modelship.operator.testing.ModelDeployments;
import io.modelship.operator.testing.OperatorHarness;
import io.modelship.operator.testing.OutagePort;
import io.modelship.operator.testing.S3Server;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.blobstore.BlobStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code s3: {uri: s3://bucket/prefix/, version: latest}} against a real S3 protocol server (S3Proxy): the
 * operator lists the version folders, pins the highest (numbers as numbers), and starts a canary when a higher one
 * appears; a lower one appearing changes nothing.
 */
class S3LatestScenarioTest {
  private static final String ACCESS_KEY = "operator-test-access";
  private static final String SECRET_KEY = "operator-test-secret-never-logged";
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private S3Server s3;
  private String endpoint;
  private OperatorHarness k8s;

  @BeforeEach
  void start() throws Exception {
    s3 = new S3Server(ACCESS_KEY, SECRET_KEY);
    endpoint = s3.endpoint;
    k8s = new OperatorHarness().start();
    s3.credentialsSecret(k8s.client, NAMESPACE, "s3-creds");
  }

  @AfterEach
  void stop() throws Exception {
    if (k8s != null) {
      k8s.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  /** iris following the highest version folder under s3://models/iris/ at {@code endpoint}, read every {@code interval}. */
  private static ModelDeployment latestOfIris(String endpoint, String interval) {
    var mdep = ModelDeployments.steps(ModelDeployments.s3("iris", "s3://models/iris/"), 100, null);
    var s3 = mdep.getSpec().getModel().getSource().getS3();
    s3.setVersion("latest");
    s3.setEndpoint(endpoint);
    s3.setCredentialsSecret("s3-creds");
    var tracking = new TrackingSpec();
    tracking.setInterval(interval);
    mdep.getSpec().getModel().getSource().setTracking(tracking);
    return mdep;
  }

  private void put(String key) {
    s3.put(key, key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  @Test
  void theHighestVersionFolderServesAndAHigherOneStartsACanary() {
    put("iris/2/model.onnx");
    put("iris/9/model.onnx");
    put("iris/README.txt"); // a file beside the versions is not a version
    k8s.create(latestOfIris(endpoint, "10s"));

    String v9 = k8s.awaitOtherRevision("iris", "");
    assertThat(source(v9)).isEqualTo("s3://models/iris/9/");
    k8s.autoReady(v9);
    await().atMost(TIMEOUT).untilAsserted(() -> {
      assertThat(k8s.phase("iris")).isEqualTo(Phase.Stable);
      assertThat(k8s.status("iris").getTracking()).extracting(t -> t.getVersion()).isEqualTo("9");
    });
    assertThat(k8s.status("iris").getTracking()).extracting(t -> t.getSource()).isEqualTo("s3://models/iris/ (latest)");

    put("iris/10/model.onnx"); // 10 after 9: numbers compare as numbers
    k8s.clock.advance(Duration.ofSeconds(12));
    String v10 = k8s.awaitOtherRevision("iris", v9);
    assertThat(source(v10)).isEqualTo("s3://models/iris/10/");
    assertThat(source(v9)).as("the stable revision stays pinned").isEqualTo("s3://models/iris/9/");
    k8s.autoReady(v10);
    await().atMost(TIMEOUT).untilAsserted(() -> assertThat(k8s.stable("iris").getRevision())
        .isEqualTo(v10.substring(v10.lastIndexOf('-') + 1)));

    put("iris/3/model.onnx"); // a lower version appearing moves nothing
    k8s.clock.advance(Duration.ofSeconds(12));
    await().atMost(TIMEOUT).untilAsserted(() ->
        assertThat(k8s.status("iris").getTracking()).extracting(t -> t.getReadAt()).isEqualTo(k8s.clock.instant().truncatedTo(
            java.time.temporal.ChronoUnit.SECONDS).toString()));
    assertThat(k8s.deployments()).extracting(d -> d.getMetadata().getName()).containsExactly(v10);
    assertThat(k8s.status("iris").getTracking()).extracting(t -> t.getVersion()).isEqualTo("10");
  }

  @Test
  void anS3OutageKeepsTheStableVersionServingAndBacksItsReadsOff() throws Exception {
    put("iris/9/model.onnx");
    try (OutagePort relay = new OutagePort(URI.create(endpoint).getPort())) {
      k8s.create(latestOfIris(relay.endpoint(), "60s"));
      String v9 = k8s.awaitOtherRevision("iris", "");
      k8s.autoReady(v9);
      await().atMost(TIMEOUT).until(() -> k8s.phase("iris") == Phase.Stable);

      // Ten minutes of outage, read by read: each scheduled read fails, and the next waits 5, 10, 20, 40 s, then
      // the interval (60 s).
      relay.down();
      Instant outageStart = k8s.clock.instant();
      Instant end = outageStart.plus(Duration.ofMinutes(10));
      List<Instant> reads = new ArrayList<>();
      while (true) {
        Instant next = nextRead();
        if (next.isAfter(end)) {
          break;
        }
        int failuresBefore = failures();
        // The operator reads time in whole seconds: one more second makes the read due.
        k8s.clock.advance(Duration.between(k8s.clock.instant(), next).plusSeconds(1));
        await().atMost(TIMEOUT).untilAsserted(() -> assertThat(failures()).isEqualTo(failuresBefore + 1));
        reads.add(next);
      }
      List<Long> gaps = new ArrayList<>();
      for (int i = 1; i < reads.size(); i++) {
        gaps.add(Duration.between(reads.get(i - 1), reads.get(i)).toSeconds());
      }
      // Each gap is the backoff after the read, which happens within a second of being due.
      assertThat(gaps.subList(0, 4)).satisfiesExactly(g -> assertThat(g).isBetween(5L, 6L),
          g -> assertThat(g).isBetween(10L, 11L), g -> assertThat(g).isBetween(20L, 21L),
          g -> assertThat(g).isBetween(40L, 41L));
      assertThat(gaps.subList(4, gaps.size())).isNotEmpty().allSatisfy(g -> assertThat(g).isBetween(60L, 61L));
      assertThat(reads).hasSizeBetween(12, 13); // ~0, 5, 15, 35, 75 s, then one a minute
      // Each failed read is one listing call, which the S3 client tries at most three times (its standard retries).
      assertThat(relay.refused()).isBetween(reads.size(), 3 * reads.size());
      var condition = OperatorHarness.condition(k8s.status("iris"), SourceTracker.CONDITION);
      assertThat(condition.getReason()).isEqualTo("RegistryReadFailed");
      assertThat(condition.getMessage()).contains("version 9 stays pinned and keeps serving");
      assertThat(k8s.warnings("iris")).containsOnlyOnce("RegistryReadFailed");
      assertThat(k8s.phase("iris")).isEqualTo(Phase.Stable);
      assertThat(k8s.deployments()).extracting(d -> d.getMetadata().getName()).containsExactly(v9);
      System.out.printf("S3LatestScenarioTest: %d reads and %d refused requests in 10 simulated minutes of S3 outage%n",
          reads.size(), relay.refused());

      // Back: the next read succeeds and says so.
      relay.up();
      k8s.clock.advance(Duration.between(k8s.clock.instant(), nextRead()).plusSeconds(1));
      await().atMost(TIMEOUT).untilAsserted(() -> {
        assertThat(failures()).isZero();
        assertThat(k8s.reasons("iris")).contains("RegistryReachable");
      });
    }
  }

  /** When the operator reads the source next; an AssertionError until it has scheduled a read. */
  private Instant nextRead() {
    String next = k8s.tracking("iris").getNextReadAt();
    if (next == null) {
      throw new AssertionError("iris has no read scheduled yet");
    }
    return Instant.parse(next);
  }

  private int failures() {
    Integer failures = k8s.tracking("iris").getFailures();
    return failures == null ? 0 : failures;
  }

  @Test
  void highestVersionOrder() {
    assertThat(S3Versions.highest(List.of("2", "10", "9"))).contains("10");
    assertThat(S3Versions.highest(List.of("v1.2.0", "v1.10.0", "v1.9.3"))).contains("v1.10.0");
    assertThat(S3Versions.highest(List.of("1.2.0-rc1", "1.2.0"))).contains("1.2.0");
    assertThat(S3Versions.highest(List.of("2024-01-05", "2024-11-30"))).contains("2024-11-30");
    assertThat(S3Versions.highest(List.of())).isEmpty();
  }

  private String source(String deployment) {
    Deployment d = k8s.deployment(deployment).orElseThrow(() -> new AssertionError(deployment + " is gone"));
    return d.getSpec().getTemplate().getSpec().getInitContainers().stream()
        .filter(c -> PodContract.FETCH_CONTAINER.equals(c.getName())).flatMap(c -> c.getEnv().stream())
        .filter(e -> "MODELSHIP_SOURCE".equals(e.getName())).map(e -> e.getValue()).findFirst().orElseThrow();
  }
}
