package io.modelship.server.fetch;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * An object or a prefix in S3 or an S3-compatible store. {@code s3://bucket/key} is the object when it exists and
 * the prefix {@code key/} otherwise; {@code s3://bucket/prefix/} is always a prefix.
 *
 * <p>The SDK's own retries are off: {@link RetryPolicy} retries every store the same way, and two layers of
 * retries would multiply. Every SDK error is turned into a message of ours; the SDK's messages are never shown
 * (a SignatureDoesNotMatch body can echo the access key id).
 */
final class S3ArtifactStore implements ArtifactStore {

  private final S3Client client;
  private final String bucket;
  private final String key;
  private final SourceCredentials credentials;
  private final RetryPolicy retry;
  /** Where requests go, for messages only: the configured endpoint, or AWS's host for the bucket. */
  private final URI endpoint;
  private String eTag;
  private Boolean singleFile;
  private List<ArtifactFile> files;

  S3ArtifactStore(S3Client client, String bucket, String key, SourceCredentials credentials, RetryPolicy retry,
      URI endpoint) {
    this.client = client;
    this.bucket = bucket;
    this.key = key;
    this.credentials = credentials;
    this.retry = retry;
    this.endpoint = endpoint;
  }

  /** {@code s3://bucket/key}, with the client built from the options and the mounted credentials. */
  static S3ArtifactStore forUri(String uri, S3Settings settings, SourceCredentials credentials, RetryPolicy retry) {
    String rest = uri.substring("s3://".length());
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    String key = slash < 0 ? "" : rest.substring(slash + 1);
    if (bucket.isEmpty()) {
      throw FetchFailure.usage("an S3 source needs a bucket: s3://BUCKET/KEY, got " + Redactor.displayUri(uri));
    }
    URI endpoint = settings.endpoint() != null
        ? URI.create(settings.endpoint())
        : URI.create("https://" + bucket + ".s3" + (settings.region() != null ? "." + settings.region() : "")
            + ".amazonaws.com");
    return new S3ArtifactStore(client(settings, credentials), bucket, key, credentials, retry, endpoint);
  }

  /** Endpoint and region of the source; an endpoint means an S3-compatible store with path-style addressing. */
  record S3Settings(String endpoint, String region) {}

  static S3Client client(S3Settings settings, SourceCredentials credentials) {
    S3ClientBuilder builder =
        S3Client.builder()
            .credentialsProvider(credentialsProvider(credentials))
            .overrideConfiguration(
                o ->
                    o.retryStrategy(AwsRetryStrategy.doNotRetry())
                        .apiCallAttemptTimeout(Duration.ofMinutes(10)));
    if (settings.endpoint() != null) {
      builder
          .endpointOverride(URI.create(settings.endpoint()))
          .forcePathStyle(true)
          .region(Region.of(settings.region() != null ? settings.region() : "us-east-1"))
          // S3-compatible stores lag behind the SDK's default CRC32 checksum headers and refuse them (S3Proxy
          // answers 501); the artifact's SHA-256 is our integrity check.
          .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
          .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    } else if (settings.region() != null) {
      builder.region(Region.of(settings.region())).crossRegionAccessEnabled(true);
    } else {
      builder.region(defaultRegion()).crossRegionAccessEnabled(true);
    }
    return builder.build();
  }

  private static Region defaultRegion() {
    try {
      return DefaultAwsRegionProviderChain.builder().build().getRegion();
    } catch (SdkException e) {
      // Cross-region access follows the bucket's redirect, so any start region reaches it.
      return Region.US_EAST_1;
    }
  }

  private static AwsCredentialsProvider credentialsProvider(SourceCredentials credentials) {
    if (credentials.hasAwsKeys()) {
      String id = credentials.value(SourceCredentials.AWS_ACCESS_KEY_ID).orElseThrow();
      String secret = credentials.value(SourceCredentials.AWS_SECRET_ACCESS_KEY).orElseThrow();
      Optional<String> token = credentials.value(SourceCredentials.AWS_SESSION_TOKEN);
      return StaticCredentialsProvider.create(
          token.isPresent()
              ? AwsSessionCredentials.create(id, secret, token.get())
              : AwsBasicCredentials.create(id, secret));
    }
    // Web identity (IRSA), environment, profile, container and instance credentials, in the SDK's order.
    return DefaultCredentialsProvider.builder().build();
  }

  @Override
  public String displayUri() {
    return "s3://" + bucket + "/" + key;
  }

  @Override
  public boolean isSingleFile() {
    list();
    return singleFile;
  }

  @Override
  public synchronized List<ArtifactFile> list() {
    if (files == null) {
      files = retry.call("list " + displayUri(), this::listOnce);
    }
    return files;
  }

  private List<ArtifactFile> listOnce() {
    if (!key.isEmpty() && !key.endsWith("/")) {
      Optional<HeadObjectResponse> head = headObject();
      if (head.isPresent()) {
        singleFile = true;
        eTag = head.get().eTag();
        String name = key.substring(key.lastIndexOf('/') + 1);
        return List.of(new ArtifactFile(name, head.get().contentLength(), key));
      }
    }
    singleFile = false;
    String prefix = key.isEmpty() || key.endsWith("/") ? key : key + "/";
    List<ArtifactFile> found = new ArrayList<>();
    try {
      for (S3Object object :
          client
              .listObjectsV2Paginator(ListObjectsV2Request.builder().bucket(bucket).prefix(prefix).build())
              .contents()) {
        // Zero-byte "folder" markers that consoles create are not files of the artifact.
        if (object.key().endsWith("/")) {
          continue;
        }
        found.add(new ArtifactFile(object.key().substring(prefix.length()), object.size(), object.key()));
      }
    } catch (SdkException e) {
      throw failure(e, "list s3://" + bucket + "/" + prefix);
    }
    if (found.isEmpty()) {
      throw notFound();
    }
    return found;
  }

  private Optional<HeadObjectResponse> headObject() {
    try {
      return Optional.of(client.headObject(b -> b.bucket(bucket).key(key)));
    } catch (AwsServiceException e) {
      if (e.statusCode() == 404) {
        return Optional.empty();
      }
      throw failure(e, "read s3://" + bucket + "/" + key);
    } catch (SdkException e) {
      throw failure(e, "read s3://" + bucket + "/" + key);
    }
  }

  private FetchFailure notFound() {
    boolean bucketExists;
    try {
      client.headBucket(b -> b.bucket(bucket));
      bucketExists = true;
    } catch (AwsServiceException e) {
      if (e.statusCode() != 404) {
        throw failure(e, "read bucket " + bucket);
      }
      bucketExists = false;
    } catch (SdkException e) {
      throw failure(e, "read bucket " + bucket);
    }
    if (!bucketExists) {
      return FetchFailure.permanent("S3 bucket '" + bucket + "' does not exist (source " + displayUri() + ")");
    }
    if (key.isEmpty() || key.endsWith("/")) {
      return FetchFailure.permanent(
          "no objects under s3://" + bucket + "/" + key + " (bucket '" + bucket + "', prefix '" + key + "')");
    }
    return FetchFailure.permanent(
        "S3 object not found: bucket '" + bucket + "', key '" + key + "' (and no objects under prefix '" + key
            + "/')");
  }

  @Override
  public boolean supportsRanges(ArtifactFile file) {
    return true;
  }

  @Override
  public InputStream open(ArtifactFile file, long from, long to) throws IOException {
    GetObjectRequest.Builder request = GetObjectRequest.builder().bucket(bucket).key(file.location());
    if (from > 0 || to >= 0) {
      request.range("bytes=" + from + "-" + (to >= 0 ? Long.toString(to) : ""));
    }
    if (singleFile != null && singleFile && eTag != null) {
      // Parts of two different versions of an object must never be stitched together.
      request.ifMatch(eTag);
    }
    try {
      return new AbortingStream(client.getObject(request.build()));
    } catch (SdkException e) {
      throw failure(e, "read s3://" + bucket + "/" + file.location());
    }
  }

  @Override
  public void close() {
    client.close();
  }

  /** One place that turns SDK errors into failures whose message says what to fix, and no more. */
  private FetchFailure failure(SdkException e, String action) {
    if (e instanceof AwsServiceException service) {
      int status = service.statusCode();
      String code =
          service.awsErrorDetails() != null && service.awsErrorDetails().errorCode() != null
              ? service.awsErrorDetails().errorCode()
              : "HTTP " + status;
      if (status == 403 || status == 401 || code.equals("AccessDenied") || code.equals("InvalidAccessKeyId")
          || code.equals("SignatureDoesNotMatch") || code.equals("ExpiredToken")) {
        return FetchFailure.permanent(
            "access denied (" + code + ") trying to " + action + ": check " + credentials.describeForAws()
                + " and that they may read bucket '" + bucket + "'");
      }
      if (code.equals("NoSuchBucket")) {
        return FetchFailure.permanent("S3 bucket '" + bucket + "' does not exist (source " + displayUri() + ")");
      }
      if (status == 404) {
        return FetchFailure.permanent("cannot " + action + ": not found (" + code + ")");
      }
      if (status == 301 || code.equals("PermanentRedirect") || code.equals("AuthorizationHeaderMalformed")) {
        return FetchFailure.permanent(
            "cannot " + action + ": bucket '" + bucket + "' is in another region (" + code
                + "); set --s3-region");
      }
      if (status == 412) {
        return FetchFailure.retryable(
            "s3://" + bucket + "/" + key + " changed while it was being downloaded");
      }
      if ((status >= 500 && status != 501) || status == 429 || service.isThrottlingException()) {
        return FetchFailure.retryable("cannot " + action + ": the store answered " + code + " (HTTP " + status + ")");
      }
      return FetchFailure.permanent("cannot " + action + ": the store answered " + code + " (HTTP " + status + ")");
    }
    if (String.valueOf(e.getMessage()).contains("Unable to load credentials")) {
      return FetchFailure.permanent(
          "no AWS credentials for " + displayUri() + ": check " + credentials.describeForAws());
    }
    return FetchFailure.retryable("cannot " + action + ": " + Unreachable.describe(e, endpoint));
  }

  /**
   * Aborts the HTTP connection when a part is abandoned mid-way instead of draining gigabytes, and reports SDK
   * errors raised while reading (checksum mismatch, connection aborted) as I/O errors, which are retried.
   */
  private static final class AbortingStream extends FilterInputStream {
    private final ResponseInputStream<GetObjectResponse> response;
    private boolean finished;

    AbortingStream(ResponseInputStream<GetObjectResponse> response) {
      super(response);
      this.response = response;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        int n = super.read(b, off, len);
        finished = n < 0;
        return n;
      } catch (SdkException e) {
        throw new IOException("S3 read failed: " + e.getClass().getSimpleName());
      }
    }

    @Override
    public void close() throws IOException {
      if (!finished) {
        response.abort();
      }
      super.close();
    }
  }
}
