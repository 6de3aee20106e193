package io.modelship.server.fetch;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;

/**
 * The mounted credentials secret of a source (one file per key, as Kubernetes mounts a Secret). Every value read
 * is handed to the {@link Redactor} before anything else can see it. When the directory is absent the AWS default
 * provider chain applies (IRSA) and MLflow is called without auth.
 */
final class SourceCredentials {

  static final String AWS_ACCESS_KEY_ID = "AWS_ACCESS_KEY_ID";
  static final String AWS_SECRET_ACCESS_KEY = "AWS_SECRET_ACCESS_KEY";
  static final String AWS_SESSION_TOKEN = "AWS_SESSION_TOKEN";
  static final String MLFLOW_TRACKING_TOKEN = "MLFLOW_TRACKING_TOKEN";
  static final String MLFLOW_TRACKING_USERNAME = "MLFLOW_TRACKING_USERNAME";
  static final String MLFLOW_TRACKING_PASSWORD = "MLFLOW_TRACKING_PASSWORD";

  private final Path dir;
  private final boolean present;
  private final Redactor redactor;

  SourceCredentials(Path dir, Redactor redactor) {
    this.dir = dir;
    this.present = Files.isDirectory(dir);
    this.redactor = redactor;
    if (present) {
      for (String key :
          new String[] {
            AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
            MLFLOW_TRACKING_TOKEN, MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD
          }) {
        value(key).ifPresent(redactor::addSecret);
      }
      // A user name is not secret on its own, but the Basic header carries it next to the password.
      basicAuthorization().ifPresent(redactor::addSecret);
    }
  }

  Path dir() {
    return dir;
  }

  boolean present() {
    return present;
  }

  /** A key's value, trimmed (secrets created with {@code echo} end in a newline). */
  Optional<String> value(String key) {
    if (!present) {
      return Optional.empty();
    }
    Path file = dir.resolve(key);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      String value = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (value.isEmpty()) {
        return Optional.empty();
      }
      redactor.addSecret(value);
      return Optional.of(value);
    } catch (IOException e) {
      throw FetchFailure.permanent(
          "cannot read " + key + " from the credentials directory " + dir + ": " + e.getClass().getSimpleName());
    }
  }

  boolean hasAwsKeys() {
    return value(AWS_ACCESS_KEY_ID).isPresent() && value(AWS_SECRET_ACCESS_KEY).isPresent();
  }

  /** The Authorization header for MLflow: a bearer token wins over user name and password. */
  Optional<String> mlflowAuthorization() {
    Optional<String> token = value(MLFLOW_TRACKING_TOKEN);
    if (token.isPresent()) {
      return Optional.of("Bearer " + token.get());
    }
    return basicAuthorization().map(encoded -> "Basic " + encoded);
  }

  private Optional<String> basicAuthorization() {
    Optional<String> user = value(MLFLOW_TRACKING_USERNAME);
    Optional<String> password = value(MLFLOW_TRACKING_PASSWORD);
    if (user.isEmpty() || password.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        Base64.getEncoder()
            .encodeToString((user.get() + ":" + password.get()).getBytes(StandardCharsets.UTF_8)));
  }

  /** Where to look when access is denied, for the error message. */
  String describeForAws() {
    if (hasAwsKeys()) {
      return "the keys AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the credentials secret mounted at " + dir;
    }
    return "the AWS default credential chain (no credentials secret at " + dir
        + "; check the service account's IAM role (IRSA) or set credentialsSecret)";
  }

  String describeForMlflow() {
    if (value(MLFLOW_TRACKING_TOKEN).isPresent()) {
      return "MLFLOW_TRACKING_TOKEN in the credentials secret mounted at " + dir;
    }
    if (basicAuthorization().isPresent()) {
      return "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD in the credentials secret mounted at " + dir;
    }
    return "no MLflow credentials (none found in " + dir
        + "; set MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD in credentialsSecret)";
  }

  @Override
  public String toString() {
    return "SourceCredentials[" + dir + (present ? "" : " (absent)") + "]";
  }
}
