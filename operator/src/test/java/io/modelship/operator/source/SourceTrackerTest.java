package io.modelship.operator.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.MlflowSource;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SourceTrackerTest {
  @Test
  void failedReadsBackOffByDoublingUpToTheInterval() {
    Duration interval = Duration.ofSeconds(30);
    assertThat(SourceTracker.backoff(1, interval)).isEqualTo(Duration.ofSeconds(5));
    assertThat(SourceTracker.backoff(2, interval)).isEqualTo(Duration.ofSeconds(10));
    assertThat(SourceTracker.backoff(3, interval)).isEqualTo(Duration.ofSeconds(20));
    assertThat(SourceTracker.backoff(4, interval)).isEqualTo(interval);
    assertThat(SourceTracker.backoff(400, interval)).isEqualTo(interval);
  }

  @Test
  void jitterIsUnderATenthOfTheIntervalStableForOneObjectAndSpreadBetweenMany() {
    Duration interval = Duration.ofSeconds(30);
    var seen = new java.util.HashSet<Duration>();
    for (int i = 0; i < 200; i++) {
      var mdep = new ModelDeployment();
      mdep.setMetadata(new ObjectMetaBuilder().withName("m" + i).withNamespace("ml").withUid("uid-" + i).build());
      Duration jitter = SourceTracker.jitter(mdep, interval);
      assertThat(jitter).isBetween(Duration.ZERO, Duration.ofSeconds(3)).isNotEqualTo(Duration.ofSeconds(3));
      assertThat(SourceTracker.jitter(mdep, interval)).isEqualTo(jitter);
      seen.add(jitter);
    }
    assertThat(seen).hasSizeGreaterThan(100);
  }

  @Test
  void credentialsBecomeAnAuthorizationHeaderAndNeverAMessage() {
    var mdep = new ModelDeployment();
    mdep.setMetadata(new ObjectMetaBuilder().withName("m").withNamespace("ml").build());
    var mlflow = new MlflowSource();
    mlflow.setCredentialsSecret("mlflow-creds");
    var token = new SecretBuilder().withStringData(Map.of("MLFLOW_TRACKING_TOKEN", "t0ken-value")).build();
    assertThat(new SourceTracker(new MlflowRegistry(), (ns, name) -> Optional.of(token)).authorization(mdep, mlflow))
        .contains("Bearer t0ken-value");
    var basic = new SecretBuilder().withData(Map.of(
        "MLFLOW_TRACKING_USERNAME", java.util.Base64.getEncoder().encodeToString("ana".getBytes()),
        "MLFLOW_TRACKING_PASSWORD", java.util.Base64.getEncoder().encodeToString("pa55".getBytes()))).build();
    assertThat(new SourceTracker(new MlflowRegistry(), (ns, name) -> Optional.of(basic)).authorization(mdep, mlflow))
        .contains("Basic " + java.util.Base64.getEncoder().encodeToString("ana:pa55".getBytes()));
    assertThat(new SourceTracker(new MlflowRegistry(), (ns, name) -> Optional.empty()).authorization(mdep, mlflow))
        .isEmpty();
  }

  @Test
  void aTrackingUriWithUserInfoIsNamedWithoutIt() {
    assertThat(MlflowRegistry.redact("https://ana:s3cret@mlflow.example:5000/")).isEqualTo("https://mlflow.example:5000/");
    assertThatThrownBy(() -> new MlflowRegistry().byAlias("http://ana:s3cret@127.0.0.1:1", Optional.of("Bearer x"),
        "m", "champion"))
        .isInstanceOf(MlflowRegistry.RegistryException.class)
        .hasMessageContaining("cannot reach MLflow at http://127.0.0.1:1")
        .hasMessageNotContaining("s3cret");
  }
}
