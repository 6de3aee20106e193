package io.modelship.operator.testing;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.URI;
import java.time.Duration;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * A real S3 protocol server for operator scenarios: S3Proxy on 127.0.0.1 over an in-memory blob store, with bucket
 * {@code models}, signing checked against one key pair, and the credentials Secret a ModelDeployment names.
 */
public final class S3Server implements AutoCloseable {
  public static final String BUCKET = "models";
  public final String accessKey;
  public final String secretKey;
  public final String endpoint;
  private final BlobStoreContext context;
  private final BlobStore blobs;
  private final S3Proxy proxy;

  public S3Server(String accessKey, String secretKey) throws Exception {
    this.accessKey = accessKey;
    this.secretKey = secretKey;
    context = ContextBuilder.newBuilder("transient").credentials("identity", "credential").build(BlobStoreContext.class);
    blobs = context.getBlobStore();
    proxy = S3Proxy.builder().blobStore(blobs).endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, accessKey, secretKey).ignoreUnknownHeaders(true).build();
    proxy.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> "STARTED".equals(proxy.getState()));
    endpoint = "http://127.0.0.1:" + proxy.getPort();
    blobs.createContainerInLocation(null, BUCKET);
  }

  public void put(String key, byte[] bytes) {
    blobs.putBlob(BUCKET, blobs.blobBuilder(key).payload(bytes).contentLength(bytes.length).build());
  }

  /** The Secret {@code name} in {@code namespace} with this server's keys, as a ModelDeployment's credentialsSecret. */
  public void credentialsSecret(KubernetesClient client, String namespace, String name) {
    client.resource(new SecretBuilder().withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
        .addToStringData("AWS_ACCESS_KEY_ID", accessKey).addToStringData("AWS_SECRET_ACCESS_KEY", secretKey).build())
        .create();
  }

  @Override
  public void close() throws Exception {
    proxy.stop();
    context.close();
  }
}
