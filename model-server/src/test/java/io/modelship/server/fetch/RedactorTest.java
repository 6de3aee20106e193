package io.modelship.server.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedactorTest {

  @Test
  void displayUriDropsUserInfoQueryAndFragment() {
    assertThat(Redactor.displayUri("https://user:pa55@host:8443/a/b.onnx?X-Amz-Signature=abc#f"))
        .isEqualTo("https://host:8443/a/b.onnx");
    assertThat(Redactor.displayUri("s3://my_bucket.with_underscores/key")).isEqualTo("s3://my_bucket.with_underscores/key");
    assertThat(Redactor.displayUri("mlflow-artifacts:/1/abc/artifacts/model")).isEqualTo("mlflow-artifacts:/1/abc/artifacts/model");
  }

  @Test
  void redactMasksRegisteredSecretsSignedQueryParametersAndUserInfo() {
    Redactor redactor = new Redactor();
    redactor.addSecret("AKIAEXAMPLEKEY");
    redactor.addSecret("abc"); // too short to mask safely

    String shown =
        redactor.redact("key AKIAEXAMPLEKEY at http://u:p@h/x?X-Amz-Signature=deadbeef&ok=1&token=t0k abc");

    assertThat(shown)
        .doesNotContain("AKIAEXAMPLEKEY")
        .doesNotContain("deadbeef")
        .doesNotContain("t0k")
        .doesNotContain("u:p@")
        .contains("ok=1")
        .endsWith(" abc");
  }
}
