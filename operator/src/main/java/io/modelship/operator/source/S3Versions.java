package io.modelship.operator.source;

import io.modelship.operator.api.spec.S3Source;
import io.modelship.operator.source.MlflowRegistry.RegistryException;
import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;

/**
 * The versions under an S3 prefix laid out as {@code <prefix>/<version>/…}, and which is the highest: one
 * ListObjectsV2 with a delimiter per read (a few pages at most). Credentials come from the spec's Secret; a failure
 * names the bucket, prefix and endpoint, never a key.
 */
public class S3Versions {
  private static final Pattern SEMVER = Pattern.compile("^v?(\\d+)(?:\\.(\\d+))?(?:\\.(\\d+))?(?:[-+].*)?$");
  private static final int MAX_PAGES = 10;

  /** Access keys from the spec's credentials Secret; empty: the operator's own identity. */
  public record Keys(String accessKeyId, String secretAccessKey, Optional<String> sessionToken) {
    @Override
    public String toString() {
      return "Keys[redacted]";
    }
  }

  private static List<String> secrets(Optional<Keys> keys) {
    List<String> secrets = new ArrayList<>();
    keys.ifPresent(k -> {
      secrets.add(k.accessKeyId());
      secrets.add(k.secretAccessKey());
      k.sessionToken().ifPresent(secrets::add);
    });
    return secrets;
  }

  /** The folder names directly under the source's prefix. */
  public List<String> list(S3Source s3, Optional<Keys> keys) throws RegistryException {
    URI uri = URI.create(s3.getUri());
    String bucket = uri.getHost();
    String prefix = uri.getPath().startsWith("/") ? uri.getPath().substring(1) : uri.getPath();
    String where = "s3://%s/%s%s".formatted(bucket, prefix, s3.getEndpoint() != null ? " at " + s3.getEndpoint() : "");
    try (S3Client client = client(s3, keys)) {
      List<String> versions = new ArrayList<>();
      String token = null;
      for (int page = 0; page < MAX_PAGES; page++) {
        ListObjectsV2Response response = client.listObjectsV2(ListObjectsV2Request.builder()
            .bucket(bucket).prefix(prefix).delimiter("/").continuationToken(token).build());
        for (CommonPrefix common : response.commonPrefixes()) {
          String name = common.prefix().substring(prefix.length());
          if (name.endsWith("/")) {
            name = name.substring(0, name.length() - 1);
          }
          if (!name.isEmpty()) {
            versions.add(name);
          }
        }
        if (!Boolean.TRUE.equals(response.isTruncated())) {
          break;
        }
        token = response.nextContinuationToken();
      }
      return versions;
    } catch (software.amazon.awssdk.awscore.exception.AwsServiceException e) {
      // The service's own words are left out: an endpoint may put anything there, the signed request included
      // (SecretLeakScenarioTest has one that does). Its error code and status say what happened.
      String code = e.awsErrorDetails() != null && e.awsErrorDetails().errorCode() != null
          ? e.awsErrorDetails().errorCode() : "an error";
      throw new RegistryException("cannot list the versions under %s: the endpoint answered HTTP %d %s"
          .formatted(where, e.statusCode(), SecretValues.redact(code, secrets(keys))));
    } catch (SdkException e) {
      String why = e.getMessage() != null ? e.getMessage().lines().findFirst().orElse("") : e.getClass().getSimpleName();
      throw new RegistryException("cannot list the versions under %s: %s"
          .formatted(where, SecretValues.redact(why, secrets(keys))));
    }
  }

  /** The highest number (10 after 9) when some names are numbers; else the highest semantic version; else text order. */
  static Optional<String> highest(List<String> versions) {
    if (versions.isEmpty()) {
      return Optional.empty();
    }
    List<String> numbers = versions.stream().filter(v -> v.matches("\\d{1,60}")).toList();
    if (!numbers.isEmpty()) {
      return numbers.stream().max(Comparator.comparing(BigInteger::new));
    }
    List<String> semantic = versions.stream().filter(v -> SEMVER.matcher(v).matches()).toList();
    if (!semantic.isEmpty()) {
      return semantic.stream().max(Comparator.comparing((String v) -> part(v, 1))
          .thenComparing(v -> part(v, 2)).thenComparing(v -> part(v, 3))
          // 1.2.0 is above 1.2.0-rc1: a version without a pre-release part wins a tie.
          .thenComparing(v -> !v.contains("-")).thenComparing(Comparator.naturalOrder()));
    }
    return versions.stream().max(Comparator.naturalOrder());
  }

  private static BigInteger part(String version, int group) {
    Matcher m = SEMVER.matcher(version);
    return m.matches() && m.group(group) != null ? new BigInteger(m.group(group)) : BigInteger.ZERO;
  }

  private static S3Client client(S3Source s3, Optional<Keys> keys) {
    S3ClientBuilder builder = S3Client.builder()
        .credentialsProvider(provider(keys))
        .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD).apiCallTimeout(Duration.ofSeconds(10)));
    if (s3.getEndpoint() != null) {
      builder.endpointOverride(URI.create(s3.getEndpoint()))
          .forcePathStyle(true)
          .region(Region.of(s3.getRegion() != null ? s3.getRegion() : "us-east-1"))
          .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
          .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    } else {
      builder.region(Region.of(s3.getRegion() != null ? s3.getRegion() : "us-east-1")).crossRegionAccessEnabled(true);
    }
    return builder.build();
  }

  private static AwsCredentialsProvider provider(Optional<Keys> keys) {
    if (keys.isEmpty()) {
      return DefaultCredentialsProvider.builder().build();
    }
    Keys k = keys.get();
    return StaticCredentialsProvider.create(k.sessionToken().isPresent()
        ? AwsSessionCredentials.create(k.accessKeyId(), k.secretAccessKey(), k.sessionToken().get())
        : AwsBasicCredentials.create(k.accessKeyId(), k.secretAccessKey()));
  }
}
