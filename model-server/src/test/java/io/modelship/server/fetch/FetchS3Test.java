package io.modelship.server.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fetch against a real S3 protocol server: S3Proxy in-process on a transient (in-memory) blob store, signing
 * requests with a real key pair so wrong credentials are refused the way S3 refuses them.
 */
class FetchS3Test {

  private static final String ACCESS_KEY = "AKIAMODELSHIPTEST01";
  private static final String SECRET_KEY = "s3cr3t-Key-that-must-never-be-logged-9f8e7d";
  private static final String BUCKET = "models";

  private static BlobStoreContext context;
  private static BlobStore blobStore;
  private static S3Proxy s3Proxy;
  private static String endpoint;

  private static final byte[] SMALL = "tiny onnx model bytes".getBytes(StandardCharsets.UTF_8);
  /** 37 MiB + a tail: five 8 MiB ranges, the last one short, so parallel parts and the remainder both run. */
  private static final byte[] LARGE = Artifacts.randomBytes(37 * 1024 * 1024 + 12345, 42);

  private static final Map<String, byte[]> PREFIX = new LinkedHashMap<>();

  @TempDir Path tmp;

  @BeforeAll
  static void startS3() throws Exception {
    context =
        ContextBuilder.newBuilder("transient")
            .credentials("identity", "credential")
            .build(BlobStoreContext.class);
    blobStore = context.getBlobStore();
    s3Proxy =
        S3Proxy.builder()
            .blobStore(blobStore)
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
            // S3Proxy refuses x-amz-security-token (501) instead of checking the signature; real S3 accepts
            // session credentials, so let it ignore the header and judge the keys.
            .ignoreUnknownHeaders(true)
            .build();
    s3Proxy.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> "STARTED".equals(s3Proxy.getState()));
    endpoint = "http://127.0.0.1:" + s3Proxy.getPort();

    blobStore.createContainerInLocation(null, BUCKET);
    put("tiny/model.onnx", SMALL);
    put("large/model.onnx", LARGE);
    PREFIX.put("model.onnx", Artifacts.randomBytes(300_000, 1));
    PREFIX.put("config.json", "{\"inputs\":[\"x\"]}".getBytes(StandardCharsets.UTF_8));
    PREFIX.put("tokenizer/vocab.txt", "a\nb\nc\n".getBytes(StandardCharsets.UTF_8));
    PREFIX.put("tokenizer/merges.txt", "a b\n".getBytes(StandardCharsets.UTF_8));
    PREFIX.put("Z-upper.bin", new byte[0]);
    PREFIX.forEach((name, bytes) -> put("bundle/v1/" + name, bytes));
    // A console-created "folder" marker, which is not a file of the artifact.
    put("bundle/v1/", new byte[0]);
  }

  private static void put(String key, byte[] bytes) {
    blobStore.putBlob(BUCKET, blobStore.blobBuilder(key).payload(bytes).contentLength(bytes.length).build());
  }

  @AfterAll
  static void stopS3() throws Exception {
    if (s3Proxy != null) {
      s3Proxy.stop();
    }
    if (context != null) {
      context.close();
    }
  }

  private FetchRun fetch(String source) throws IOException {
    return new FetchRun(tmp)
        .arg("--source", source)
        .arg("--s3-endpoint", endpoint)
        .credential(SourceCredentials.AWS_ACCESS_KEY_ID, ACCESS_KEY)
        .credential(SourceCredentials.AWS_SECRET_ACCESS_KEY, SECRET_KEY);
  }

  @Test
  void smallObjectLandsAsItsFileWithItsDigestRecorded() throws Exception {
    FetchRun run = fetch("s3://models/tiny/model.onnx").run();

    assertThat(run.exitCode).as(run.toString()).isZero();
    assertThat(run.modelDir.resolve("model.onnx")).hasBinaryContent(SMALL);
    FetchResult result = run.result();
    assertThat(result.sha256()).isEqualTo(Artifacts.sha256(SMALL));
    assertThat(result.bytes()).isEqualTo(SMALL.length);
    assertThat(result.files()).isEqualTo(1);
    assertThat(result.source()).isEqualTo("s3://models/tiny/model.onnx");
    assertThat(result.resolvedUri()).isEqualTo("s3://models/tiny/model.onnx");
    assertThat(result.modelVersion()).isNull();
    assertThat(run.terminationMessage()).isEqualTo(run.artifactJson().strip()).doesNotContain("\n");
    assertThat(run.terminationMessage())
        .startsWith("{\"source\":\"s3://models/tiny/model.onnx\",\"resolvedUri\":");
    assertNoStagingLeftovers();
  }

  @Test
  void largeObjectIsFetchedInParallelRangesAndReassembledExactly() throws Exception {
    FetchRun run = fetch("s3://models/large/model.onnx").arg("--sha256", Artifacts.sha256(LARGE)).run();

    assertThat(run.exitCode).as(run.toString()).isZero();
    assertThat(Files.size(run.modelDir.resolve("model.onnx"))).isEqualTo(LARGE.length);
    assertThat(ArtifactDigest.sha256(run.modelDir.resolve("model.onnx"))).isEqualTo(Artifacts.sha256(LARGE));
    assertThat(run.result().sha256()).isEqualTo(Artifacts.sha256(LARGE));
    // Five 8 MiB ranges, several of them in flight at once, and progress reported with percent and rate.
    assertThat(run.log).contains("in 5 part(s), 4 at a time").contains("part 5/5 done").doesNotContain("part 6/");
    java.util.regex.Matcher peak = java.util.regex.Pattern.compile("at most (\\d+) part\\(s\\) were in flight").matcher(run.log);
    assertThat(peak.find()).as(run.log).isTrue();
    assertThat(Integer.parseInt(peak.group(1))).isGreaterThan(1);
    assertThat(run.log).containsPattern("downloaded s3://models/large/model.onnx: 100\\.0% \\(37\\.0 of 37\\.0 MB\\) at [0-9.]+ MB/s");
  }

  @Test
  void prefixBecomesADirectoryWithTheContractsManifestDigest() throws Exception {
    FetchRun run = fetch("s3://models/bundle/v1").run();

    assertThat(run.exitCode).as(run.toString()).isZero();
    Map<String, byte[]> fetched = Artifacts.readTree(run.modelDir);
    fetched.remove(".modelship/artifact.json");
    assertThat(fetched.keySet()).containsExactlyInAnyOrderElementsOf(PREFIX.keySet());
    PREFIX.forEach((name, bytes) -> assertThat(fetched.get(name)).as(name).isEqualTo(bytes));

    FetchResult result = run.result();
    assertThat(result.sha256()).isEqualTo(Artifacts.manifestDigest(PREFIX));
    assertThat(result.files()).isEqualTo(PREFIX.size());
    assertThat(result.bytes()).isEqualTo(PREFIX.values().stream().mapToLong(b -> b.length).sum());
    String shell = Artifacts.shellDigest(run.modelDir);
    if (shell != null) {
      assertThat(result.sha256()).as("digest by the contract's shell line").isEqualTo(shell);
    }
  }

  @Test
  void matchingDigestIsAcceptedAndMismatchLeavesThePreviousModelUntouched() throws Exception {
    String expected = Artifacts.manifestDigest(PREFIX);
    FetchRun first = fetch("s3://models/bundle/v1/").arg("--sha256", expected.toUpperCase()).run();
    assertThat(first.exitCode).as(first.toString()).isZero();
    Map<String, byte[]> before = Artifacts.readTree(first.modelDir);

    String wrong = "0".repeat(64);
    FetchRun second = fetch("s3://models/large/model.onnx").arg("--sha256", wrong).run();

    assertThat(second.exitCode).as(second.toString()).isEqualTo(3);
    assertThat(second.error())
        .contains("digest mismatch")
        .contains("expected sha256 " + wrong)
        .contains("got " + Artifacts.sha256(LARGE));
    Map<String, byte[]> after = Artifacts.readTree(second.modelDir);
    assertThat(after.keySet()).isEqualTo(before.keySet());
    before.forEach((name, bytes) -> assertThat(after.get(name)).as(name).isEqualTo(bytes));
    assertNoStagingLeftovers();
  }

  @Test
  void anArtifactOverwrittenUnderThePinnedDigestIsRefusedAndNothingIsReplaced() throws Exception {
    byte[] original = Artifacts.randomBytes(40_000, 7);
    put("pinned/model.onnx", original);
    FetchRun first = fetch("s3://models/pinned/model.onnx").run();
    assertThat(first.exitCode).as(first.toString()).isZero();
    String pin = first.result().sha256();
    FetchRun again = fetch("s3://models/pinned/model.onnx").arg("--pinned-sha256", pin).run();
    assertThat(again.exitCode).as(again.toString()).isZero();

    put("pinned/model.onnx", Artifacts.randomBytes(40_000, 8)); // overwritten in place
    FetchRun changed = fetch("s3://models/pinned/model.onnx").arg("--pinned-sha256", pin).run();

    assertThat(changed.exitCode).as(changed.toString()).isEqualTo(3);
    assertThat(changed.error())
        .contains("the artifact changed under the same version")
        .contains("first pod verified sha256 " + pin)
        .contains("publish changed bytes as a new version");
    assertThat(changed.modelDir.resolve("model.onnx")).hasBinaryContent(original);
    assertNoStagingLeftovers();
  }

  @Test
  void missingObjectIsAPermanentFailureNamingBucketAndKey() throws Exception {
    FetchRun run = fetch("s3://models/nope/model.onnx").run();

    assertThat(run.exitCode).as(run.toString()).isEqualTo(3);
    assertThat(run.error()).contains("not found").contains("bucket 'models'").contains("key 'nope/model.onnx'");
    assertThat(run.terminationMessage()).startsWith("{\"error\":\"S3 object not found").endsWith(",\"exitCode\":3}");
    assertThat(run.modelDir).doesNotExist();
    assertNoStagingLeftovers();
  }

  @Test
  void missingBucketIsNamed() throws Exception {
    FetchRun run = fetch("s3://no-such-bucket/model.onnx").run();

    assertThat(run.exitCode).as(run.toString()).isEqualTo(3);
    assertThat(run.error()).contains("bucket 'no-such-bucket' does not exist");
  }

  @Test
  void wrongCredentialsAreAccessDeniedNamingTheSecretAndNeverShowingIt() throws Exception {
    String wrongSecret = "wrong-secret-value-zz-5b4a3c2d1e";
    FetchRun run =
        new FetchRun(tmp)
            .arg("--source", "s3://models/tiny/model.onnx")
            .arg("--s3-endpoint", endpoint)
            .credential(SourceCredentials.AWS_ACCESS_KEY_ID, ACCESS_KEY)
            .credential(SourceCredentials.AWS_SECRET_ACCESS_KEY, wrongSecret)
            .credential(SourceCredentials.AWS_SESSION_TOKEN, "session-token-never-shown-0123456789")
            .run();

    assertThat(run.exitCode).as(run.toString()).isEqualTo(3);
    assertThat(run.error())
        .contains("access denied")
        .contains(run.credentialsDir.toString())
        .contains("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
    for (String secret :
        new String[] {ACCESS_KEY, wrongSecret, SECRET_KEY, "session-token-never-shown-0123456789"}) {
      assertThat(run.log).as("log").doesNotContain(secret);
      assertThat(run.terminationMessage()).as("termination message").doesNotContain(secret);
    }
    assertThat(run.modelDir).doesNotExist();
  }

  @Test
  void unreachableEndpointIsRetryableAfterTheRetriesRunOut() throws Exception {
    int closedPort;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    FetchRun run =
        new FetchRun(tmp)
            .arg("--source", "s3://models/tiny/model.onnx")
            .arg("--s3-endpoint", "http://127.0.0.1:" + closedPort)
            .arg("--max-attempts", "3")
            .credential(SourceCredentials.AWS_ACCESS_KEY_ID, ACCESS_KEY)
            .credential(SourceCredentials.AWS_SECRET_ACCESS_KEY, SECRET_KEY)
            .run();

    assertThat(run.exitCode).as(run.toString()).isEqualTo(4);
    assertThat(run.log).contains("attempt 1/3").contains("attempt 2/3");
    assertThat(run.error()).contains("cannot connect to 127.0.0.1:" + closedPort, "connection refused");
  }

  private void assertNoStagingLeftovers() throws IOException {
    try (Stream<Path> entries = Files.list(tmp)) {
      assertThat(entries.map(p -> p.getFileName().toString()))
          .noneMatch(name -> name.startsWith(".models.fetch-") || name.startsWith(".models.old-"));
    }
  }
}
