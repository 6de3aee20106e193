package io.modelship.e2e;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * A real S3 protocol server (S3Proxy) holding the model versions the tests roll out, listening on the node's
 * address so that pods reach it exactly as they would reach S3 or MinIO: through the endpoint and the credentials
 * Secret in the ModelDeployment. It listens on that one address only, and lives as long as the test run.
 */
final class ModelStore implements AutoCloseable {
  static final String BUCKET = "models";
  static final String ACCESS_KEY = "e2e-access-key";
  static final String SECRET_KEY = "e2e-secret-key-never-logged";
  static final String SECRET = "s3-creds";

  private final BlobStoreContext context;
  private final BlobStore blobs;
  private final S3Proxy proxy;
  final String endpoint;
  /** The namespace this store was made for, released with it; null when made without one. */
  private RealCluster cluster;
  private String namespace;

  ModelStore(String nodeIp) throws Exception {
    context = ContextBuilder.newBuilder("transient").credentials("identity", "credential").build(BlobStoreContext.class);
    blobs = context.getBlobStore();
    proxy = S3Proxy.builder()
        .blobStore(blobs)
        .endpoint(URI.create("http://" + nodeIp + ":0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
        .ignoreUnknownHeaders(true)
        .build();
    proxy.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> "STARTED".equals(proxy.getState()));
    endpoint = "http://" + nodeIp + ":" + proxy.getPort();
    blobs.createContainerInLocation(null, BUCKET);
  }

  /** Writes an MLP as {@code s3://models/<key>/model.onnx}; returns the source URI. */
  String putMlp(String key, Mlp mlp) throws Exception {
    Path dir = Files.createTempDirectory("model");
    byte[] onnx = Files.readAllBytes(OnnxModels.writeMlp(dir, mlp));
    return put(key, onnx);
  }

  /**
   * {@code count} iris-shaped MLPs alike but for their weights, as {@code s3://models/<prefix>/<i>/} for i from 0:
   * the versions a bench rolls out one after another. Returns their source URIs in that order.
   */
  java.util.List<String> putVersions(String prefix, int count, long firstSeed) throws Exception {
    java.util.List<String> uris = new java.util.ArrayList<>();
    for (int v = 0; v < count; v++) {
      uris.add(putMlp(prefix + "/" + v, new Mlp(4, 16, 1, 3, firstSeed + v)));
    }
    return uris;
  }

  /** A model that passes every request check yet fails inside ONNX Runtime on every request: 5xx for all. */
  String putFailing(String key) throws Exception {
    Path dir = Files.createTempDirectory("model");
    return put(key, Files.readAllBytes(OnnxModels.writeBroken(dir, 4, 3)));
  }

  /** The MLP's inputs and outputs, with its hidden layer run {@code repeats} times: the same model, slower. */
  String putSlowMlp(String key, Mlp mlp, int repeats) throws Exception {
    Path dir = Files.createTempDirectory("model");
    return put(key, Files.readAllBytes(OnnxModels.writeSlowMlp(dir, mlp, repeats)));
  }

  private String put(String key, byte[] onnx) {
    blobs.putBlob(BUCKET, blobs.blobBuilder(key + "/model.onnx").payload(onnx).contentLength(onnx.length).build());
    return "s3://" + BUCKET + "/" + key + "/";
  }

  /**
   * What every end-to-end test starts from: the S3 server on the node, and {@code namespace} created afresh with
   * the credentials Secret its ModelDeployments name.
   */
  static ModelStore inFreshNamespace(RealCluster cluster, String namespace) throws Exception {
    ModelStore store = new ModelStore(cluster.nodeIp);
    cluster.freshNamespace(namespace);
    store.credentialsIn(cluster, namespace);
    store.cluster = cluster;
    store.namespace = namespace;
    return store;
  }

  /** The credentials Secret a ModelDeployment names, in {@code namespace}. */
  void credentialsIn(RealCluster cluster, String namespace) {
    cluster.client().resource(new SecretBuilder().withNewMetadata().withName(SECRET).withNamespace(namespace).endMetadata()
        .addToStringData("AWS_ACCESS_KEY_ID", ACCESS_KEY).addToStringData("AWS_SECRET_ACCESS_KEY", SECRET_KEY).build())
        .serverSideApply();
  }

  /**
   * Stops the store and releases the test class's namespace: its model-server pods hold CPU requests on a one-node
   * cluster of two cores, and test classes that ran earlier must not leave the ones after them without room.
   */
  @Override
  public void close() throws Exception {
    if (namespace != null) {
      cluster.releaseNamespace(namespace);
    }
    proxy.stop();
    context.close();
  }
}
