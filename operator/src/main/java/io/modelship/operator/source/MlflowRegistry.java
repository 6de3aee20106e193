package io.modelship.operator.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The few MLflow Model Registry REST calls the operator makes (there is no MLflow Java client): resolve an alias to
 * a version, and tag a version with a rollout's outcome. Credentials are sent as a header and never appear in a
 * message; a tracking URI's user info is cut from every message too.
 */
public class MlflowRegistry {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** One registered model version as the registry describes it. */
  public record ModelVersion(String version, String status, String statusMessage) {
    public boolean ready() {
      return "READY".equals(status);
    }
  }

  /** A registry call that did not succeed; the message says which call and why, without credentials. */
  public static final class RegistryException extends Exception {
    public RegistryException(String message) {
      super(message);
    }
  }

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();

  /** The version an alias points to now. */
  public ModelVersion byAlias(String trackingUri, Optional<String> authorization, String model, String alias)
      throws RegistryException {
    JsonNode answer = call(trackingUri, authorization, "GET",
        "registered-models/alias?name=" + encode(model) + "&alias=" + encode(alias), null,
        "resolve alias '%s' of model '%s'".formatted(alias, model));
    JsonNode version = answer.path("model_version");
    if (!version.hasNonNull("version")) {
      throw new RegistryException("MLflow at %s answered without a model_version for alias '%s' of model '%s'"
          .formatted(redact(trackingUri), alias, model));
    }
    return new ModelVersion(version.get("version").asText(), version.path("status").asText("READY"),
        version.path("status_message").asText(null));
  }

  /** Sets tags on a model version, one call per tag (the registry has no batch call for versions). */
  public void tag(String trackingUri, Optional<String> authorization, String model, String version,
      Map<String, String> tags) throws RegistryException {
    for (var tag : tags.entrySet()) {
      call(trackingUri, authorization, "POST", "model-versions/set-tag",
          Map.of("name", model, "version", version, "key", tag.getKey(), "value", tag.getValue()),
          "tag version %s of model '%s'".formatted(version, model));
    }
  }

  private JsonNode call(String trackingUri, Optional<String> authorization, String method, String path, Object body,
      String what) throws RegistryException {
    String base = trackingUri.endsWith("/") ? trackingUri.substring(0, trackingUri.length() - 1) : trackingUri;
    HttpRequest.Builder request;
    try {
      request = HttpRequest.newBuilder(URI.create(base + "/api/2.0/mlflow/" + path)).timeout(TIMEOUT);
    } catch (IllegalArgumentException e) {
      throw new RegistryException("cannot %s: tracking URI %s is not a URI".formatted(what, redact(trackingUri)));
    }
    authorization.ifPresent(value -> request.header("Authorization", value));
    try {
      if (body == null) {
        request.GET();
      } else {
        request.header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
      }
      HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() / 100 != 2) {
        // The registry's own message is kept (it says which model or alias is missing), with the credentials this
        // request carried taken out: a registry, or a proxy in front of it, may repeat them.
        throw new RegistryException("MLflow at %s refused to %s: HTTP %d%s".formatted(redact(trackingUri), what,
            response.statusCode(), SecretValues.redact(errorOf(response.body()), credentialsIn(authorization))));
      }
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new RegistryException("cannot reach MLflow at %s to %s: %s".formatted(
          redact(trackingUri), what, e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RegistryException("interrupted while asking MLflow at %s to %s".formatted(redact(trackingUri), what));
    }
  }

  /** MLflow answers errors as {"error_code": ..., "message": ...}; anything else is left out of the message. */
  private static String errorOf(String body) {
    try {
      JsonNode json = JSON.readTree(body);
      String code = json.path("error_code").asText("");
      String message = json.path("message").asText("");
      if (code.isEmpty() && message.isEmpty()) {
        return "";
      }
      String text = (code + " " + message).strip();
      return " (" + (text.length() > 300 ? text.substring(0, 300) + "…" : text) + ")";
    } catch (IOException e) {
      return "";
    }
  }

  /** The secret parts of an Authorization header: the header, a bearer token, basic credentials and the password. */
  static List<String> credentialsIn(Optional<String> authorization) {
    List<String> secrets = new java.util.ArrayList<>();
    authorization.ifPresent(header -> {
      secrets.add(header);
      String value = header.substring(header.indexOf(' ') + 1);
      secrets.add(value);
      if (header.startsWith("Basic ")) {
        try {
          String decoded = new String(java.util.Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
          secrets.add(decoded);
          secrets.add(decoded.substring(decoded.indexOf(':') + 1));
        } catch (IllegalArgumentException e) {
          // not base64 after all: the header itself is redacted
        }
      }
    });
    return secrets;
  }

  /** The tracking URI without any user:password@ part, fit for messages. */
  static String redact(String uri) {
    return uri.replaceFirst("^(https?://)[^/@]*@", "$1");
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
