package io.modelship.operator.source;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.Durations;
import io.modelship.operator.api.spec.MlflowSource;
import io.modelship.operator.api.spec.ModelSource;
import io.modelship.operator.api.spec.S3Source;
import io.modelship.operator.api.status.ModelDeploymentStatus;
import io.modelship.operator.api.status.TrackingStatus;
import io.modelship.operator.source.MlflowRegistry.ModelVersion;
import io.modelship.operator.source.MlflowRegistry.RegistryException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * Pins a moving source to an exact version before any revision is made of it. An MLflow alias (or the highest
 * version folder under an S3 prefix, {@code version: latest}) is read at most once per tracking interval (with jitter, and backing off while the registry fails); the READY
 * version it names replaces the alias in the spec every later step sees, so a revision's pods, whenever they start,
 * fetch exactly that version, and a moved alias is a new revision: a canary through the usual steps and gates.
 * What was read lives in status, so a restarted operator pins the same version without asking again.
 */
public final class SourceTracker {
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
  public static final Duration MIN_INTERVAL = Duration.ofSeconds(10);
  /** The first retry after a failed read; each further failure doubles it, up to the interval. */
  static final Duration FIRST_RETRY = Duration.ofSeconds(5);

  /** The condition type this step sets on a tracked ModelDeployment. */
  public static final String CONDITION = "SourceTracked";

  /**
   * A pass's view of the source.
   *
   * @param effective the ModelDeployment with the source pinned (the one given when nothing moves)
   * @param tracking what to record in status.tracking (null for a source that does not move)
   * @param unresolved why nothing can be deployed: the source was never resolved to a READY version
   * @param condition the SourceTracked condition (status, reason, message); null for a source that does not move
   * @param notes Events to record: a moved alias, a registry that failed or came back
   * @param nextRead when to look again, for a tracked source
   */
  public record Pin(ModelDeployment effective, TrackingStatus tracking, Optional<String> unresolved,
      Condition condition, List<Note> notes, Optional<Duration> nextRead) {}

  /** The SourceTracked condition: True (Pinned) or False with the reason and a message a person can act on. */
  public record Condition(String status, String reason, String message) {}

  public record Note(boolean warning, String reason, String message) {}

  private final MlflowRegistry registry;
  private final S3Versions s3;
  private final BiFunction<String, String, Optional<Secret>> secrets;

  /** @param secrets looks a Secret up by namespace and name */
  public SourceTracker(MlflowRegistry registry, BiFunction<String, String, Optional<Secret>> secrets) {
    this(registry, new S3Versions(), secrets);
  }

  public SourceTracker(MlflowRegistry registry, S3Versions s3, BiFunction<String, String, Optional<Secret>> secrets) {
    this.registry = registry;
    this.s3 = s3;
    this.secrets = secrets;
  }

  /** A source that moves by itself: how to name it, read it, and pin a spec to one of its versions. */
  private interface Moving {
    String source();

    String registry();

    ModelVersion read() throws RegistryException;

    ModelDeployment pinned(String version);
  }

  private Optional<Moving> movingOf(ModelDeployment mdep) {
    Optional<MlflowSource> alias = aliasOf(mdep);
    if (alias.isPresent()) {
      MlflowSource mlflow = alias.get();
      return Optional.of(new Moving() {
        public String source() {
          return "models:/%s@%s".formatted(mlflow.getName(), mlflow.getAlias());
        }

        public String registry() {
          return MlflowRegistry.redact(mlflow.getTrackingUri());
        }

        public ModelVersion read() throws RegistryException {
          return registry.byAlias(mlflow.getTrackingUri(), authorization(mdep, mlflow), mlflow.getName(),
              mlflow.getAlias());
        }

        public ModelDeployment pinned(String version) {
          return SourceTracker.pinned(mdep, version);
        }
      });
    }
    return latestOf(mdep).map(source -> new Moving() {
      public String source() {
        return source.getUri() + " (latest)";
      }

      public String registry() {
        return source.getEndpoint() != null ? source.getEndpoint() : "s3";
      }

      public ModelVersion read() throws RegistryException {
        List<String> versions = s3.list(source, keys(mdep, source));
        String highest = S3Versions.highest(versions).orElseThrow(() -> new RegistryException(
            "no version under %s: put each version in a folder of its own, e.g. %s1/".formatted(source.getUri(),
                source.getUri())));
        return new ModelVersion(highest, "READY", null);
      }

      public ModelDeployment pinned(String version) {
        ModelDeployment copy = Serialization.clone(mdep);
        var pinnedS3 = copy.getSpec().getModel().getSource().getS3();
        pinnedS3.setUri(source.getUri() + version + "/");
        pinnedS3.setVersion(null);
        return copy;
      }
    });
  }

  public Pin pin(ModelDeployment mdep, ModelDeploymentStatus previous, Instant now) {
    Optional<Moving> found = movingOf(mdep);
    if (found.isEmpty()) {
      return new Pin(mdep, null, Optional.empty(), null, List.of(), Optional.empty());
    }
    Moving moving = found.get();
    String source = moving.source();
    Duration interval = interval(mdep);
    // A record of another source (the spec changed its model, alias or registry) says nothing about this one.
    TrackingStatus before = Optional.ofNullable(previous.getTracking())
        .filter(t -> source.equals(t.getSource()) && moving.registry().equals(t.getRegistry())).orElse(null);
    boolean due = before == null || before.getNextReadAt() == null
        || !now.isBefore(Instant.parse(before.getNextReadAt()));
    var tracking = before != null ? copy(before) : new TrackingStatus();
    tracking.setSource(source);
    tracking.setRegistry(moving.registry());
    List<Note> notes = new ArrayList<>();
    if (due) {
      read(mdep, moving, interval, before, tracking, now, notes);
    }
    Duration nextRead = Duration.between(now, Instant.parse(tracking.getNextReadAt()));
    if (nextRead.isNegative()) {
      nextRead = Duration.ZERO;
    }
    if (tracking.getVersion() == null) {
      String why = "%s cannot be resolved to a READY version: %s".formatted(source, tracking.getMessage());
      return new Pin(mdep, tracking, Optional.of(why), new Condition("False", "Unresolved", why), notes,
          Optional.of(nextRead));
    }
    Condition condition = tracking.getMessage() == null
        ? new Condition("True", "Pinned", "%s is version %s".formatted(source, tracking.getVersion()))
        : new Condition("False", (tracking.getFailures() != null && tracking.getFailures() > 0)
            ? "RegistryReadFailed" : "VersionNotReady",
            "%s; version %s stays pinned and keeps serving".formatted(tracking.getMessage(), tracking.getVersion()));
    return new Pin(moving.pinned(tracking.getVersion()), tracking, Optional.empty(), condition, notes,
        Optional.of(nextRead));
  }

  private void read(ModelDeployment mdep, Moving moving, Duration interval, TrackingStatus before,
      TrackingStatus tracking, Instant now, List<Note> notes) {
    String source = moving.source();
    int failuresBefore = before != null && before.getFailures() != null ? before.getFailures() : 0;
    try {
      ModelVersion current = moving.read();
      tracking.setReadAt(now.toString());
      tracking.setFailures(0);
      tracking.setNextReadAt(now.plus(interval).plus(jitter(mdep, interval)).toString());
      if (failuresBefore > 0) {
        notes.add(new Note(false, "RegistryReachable",
            "%s was read again after %d failed read(s)".formatted(source, failuresBefore)));
      }
      String pinned = tracking.getVersion();
      if (!current.ready()) {
        String message = "%s points to version %s, which is %s%s; it is used once READY".formatted(source,
            current.version(), current.status(),
            current.statusMessage() != null && !current.statusMessage().isBlank() ? " (" + current.statusMessage() + ")" : "");
        if (!message.equals(before != null ? before.getMessage() : null)) {
          notes.add(new Note(true, "VersionNotReady", message));
        }
        tracking.setMessage(message);
        return;
      }
      tracking.setMessage(null);
      if (pinned == null) {
        notes.add(new Note(false, "SourcePinned", "%s is version %s".formatted(source, current.version())));
      } else if (!pinned.equals(current.version())) {
        notes.add(new Note(false, "AliasMoved", "%s moved from version %s to version %s: a canary of version %s starts"
            .formatted(source, pinned, current.version(), current.version())));
      }
      tracking.setVersion(current.version());
    } catch (RegistryException e) {
      int failures = failuresBefore + 1;
      tracking.setFailures(failures);
      tracking.setMessage(e.getMessage());
      tracking.setNextReadAt(now.plus(backoff(failures, interval)).toString());
      if (failures == 1) {
        notes.add(new Note(true, "RegistryReadFailed", e.getMessage()
            + (tracking.getVersion() != null ? "; version %s keeps serving".formatted(tracking.getVersion()) : "")));
      }
    }
  }

  /** Access keys from the S3 source's credentials Secret, if it names one that holds them. */
  private Optional<S3Versions.Keys> keys(ModelDeployment mdep, S3Source source) {
    if (source.getCredentialsSecret() == null) {
      return Optional.empty();
    }
    Optional<Secret> secret = secrets.apply(mdep.getMetadata().getNamespace(), source.getCredentialsSecret());
    Optional<String> id = secret.flatMap(s -> SecretValues.value(s, "AWS_ACCESS_KEY_ID"));
    Optional<String> key = secret.flatMap(s -> SecretValues.value(s, "AWS_SECRET_ACCESS_KEY"));
    if (id.isEmpty() || key.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new S3Versions.Keys(id.get(), key.get(), secret.flatMap(s -> SecretValues.value(s, "AWS_SESSION_TOKEN"))));
  }

  /** The Authorization header for the spec's credentials Secret, if it names one that holds credentials. */
  Optional<String> authorization(ModelDeployment mdep, MlflowSource mlflow) {
    if (mlflow.getCredentialsSecret() == null) {
      return Optional.empty();
    }
    Optional<Secret> secret = secrets.apply(mdep.getMetadata().getNamespace(), mlflow.getCredentialsSecret());
    Optional<String> token = secret.flatMap(s -> SecretValues.value(s, "MLFLOW_TRACKING_TOKEN"));
    if (token.isPresent()) {
      return Optional.of("Bearer " + token.get());
    }
    Optional<String> user = secret.flatMap(s -> SecretValues.value(s, "MLFLOW_TRACKING_USERNAME"));
    Optional<String> password = secret.flatMap(s -> SecretValues.value(s, "MLFLOW_TRACKING_PASSWORD"));
    if (user.isPresent() && password.isPresent()) {
      return Optional.of("Basic " + Base64.getEncoder().encodeToString(
          (user.get() + ":" + password.get()).getBytes(StandardCharsets.UTF_8)));
    }
    return Optional.empty();
  }

  /** The wait after the n-th failed read in a row: 5 s, 10 s, 20 s, ..., never more than the interval. */
  static Duration backoff(int failures, Duration interval) {
    Duration wait = FIRST_RETRY.multipliedBy(1L << Math.min(failures - 1, 20));
    return wait.compareTo(interval) > 0 ? interval : wait;
  }

  /** Up to a tenth of the interval, the same for one ModelDeployment every time, different between them. */
  static Duration jitter(ModelDeployment mdep, Duration interval) {
    String id = Objects.requireNonNullElse(mdep.getMetadata().getUid(),
        mdep.getMetadata().getNamespace() + "/" + mdep.getMetadata().getName());
    long tenth = interval.toMillis() / 10;
    return tenth == 0 ? Duration.ZERO : Duration.ofMillis(Math.floorMod(id.hashCode(), tenth));
  }

  public static Duration interval(ModelDeployment mdep) {
    var tracking = mdep.getSpec().getModel().getSource().getTracking();
    return Durations.parse(tracking != null ? tracking.getInterval() : null, DEFAULT_INTERVAL);
  }

  private static Optional<MlflowSource> aliasOf(ModelDeployment mdep) {
    if (mdep.getSpec() == null || mdep.getSpec().getModel() == null) {
      return Optional.empty();
    }
    ModelSource source = mdep.getSpec().getModel().getSource();
    return source != null && source.getMlflow() != null && source.getMlflow().getAlias() != null
        ? Optional.of(source.getMlflow()) : Optional.empty();
  }

  private static Optional<S3Source> latestOf(ModelDeployment mdep) {
    if (mdep.getSpec() == null || mdep.getSpec().getModel() == null) {
      return Optional.empty();
    }
    ModelSource source = mdep.getSpec().getModel().getSource();
    return source != null && source.getS3() != null && "latest".equals(source.getS3().getVersion())
        ? Optional.of(source.getS3()) : Optional.empty();
  }

  /** A copy of the ModelDeployment whose source names the exact version instead of the alias. */
  static ModelDeployment pinned(ModelDeployment mdep, String version) {
    ModelDeployment copy = Serialization.clone(mdep);
    MlflowSource mlflow = copy.getSpec().getModel().getSource().getMlflow();
    mlflow.setAlias(null);
    mlflow.setVersion(version);
    return copy;
  }

  private static TrackingStatus copy(TrackingStatus t) {
    return Serialization.jsonMapper().convertValue(t, TrackingStatus.class);
  }
}
