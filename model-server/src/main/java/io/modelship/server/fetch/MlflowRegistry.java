package io.modelship.server.fetch;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Resolves a registered model version (by number or by alias) to the URI of its files through the MLflow REST API,
 * which is all there is from Java. Only {@code READY} versions resolve; a version still registering or whose
 * registration failed is a permanent failure that says its status.
 */
final class MlflowRegistry {

  /** A version that is READY, with where its files are. */
  record ResolvedVersion(String name, String version, String downloadUri) {}

  private final String trackingUri;
  private final HttpTransport http;
  private final RetryPolicy retry;

  MlflowRegistry(String trackingUri, HttpTransport http, RetryPolicy retry) {
    this.trackingUri = trackingUri.endsWith("/") ? trackingUri.substring(0, trackingUri.length() - 1) : trackingUri;
    this.http = http;
    this.retry = retry;
  }

  String trackingUri() {
    return trackingUri;
  }

  ResolvedVersion resolveAlias(String name, String alias) {
    Optional<JsonNode> answer =
        retry.call(
            "resolve alias",
            () ->
                http.getJson(
                    api("registered-models/alias", "name", name, "alias", alias),
                    "resolve alias '" + alias + "' of MLflow model '" + name + "'",
                    400));
    if (answer.isEmpty()) {
      if (!registeredModelExists(name)) {
        throw modelNotFound(name);
      }
      throw FetchFailure.permanent(
          "MLflow model '" + name + "' has no alias '" + alias + "' (set it with"
              + " MlflowClient.set_registered_model_alias, or use --mlflow-version)");
    }
    JsonNode modelVersion = answer.get().path("model_version");
    String version = modelVersion.path("version").asText(null);
    if (version == null || version.isEmpty()) {
      throw FetchFailure.permanent(
          "MLflow answered no model version for alias '" + alias + "' of model '" + name + "'");
    }
    return ready(name, version, modelVersion, "alias '" + alias + "' -> ");
  }

  ResolvedVersion resolveVersion(String name, String version) {
    Optional<JsonNode> answer =
        retry.call(
            "get model version",
            () ->
                http.getJson(
                    api("model-versions/get", "name", name, "version", version),
                    "get version " + version + " of MLflow model '" + name + "'"));
    if (answer.isEmpty()) {
      if (!registeredModelExists(name)) {
        throw modelNotFound(name);
      }
      throw FetchFailure.permanent("MLflow model '" + name + "' has no version " + version);
    }
    return ready(name, version, answer.get().path("model_version"), "");
  }

  private ResolvedVersion ready(String name, String version, JsonNode modelVersion, String how) {
    String status = modelVersion.path("status").asText("");
    if (!"READY".equals(status)) {
      String message = modelVersion.path("status_message").asText("");
      throw FetchFailure.permanent(
          "MLflow model '" + name + "' " + how + "version " + version + " is " + (status.isEmpty() ? "of unknown status" : status)
              + ", not READY" + (message.isEmpty() ? "" : " (" + message + ")")
              + "; only READY versions are fetched");
    }
    JsonNode uri =
        retry.call(
            "get download uri",
            () ->
                http.getJson(
                        api("model-versions/get-download-uri", "name", name, "version", version),
                        "get the download URI of version " + version + " of MLflow model '" + name + "'")
                    .orElseThrow(
                        () ->
                            FetchFailure.permanent(
                                "MLflow model '" + name + "' version " + version + " has no download URI")));
    String downloadUri = uri.path("artifact_uri").asText("");
    if (downloadUri.isEmpty()) {
      throw FetchFailure.permanent(
          "MLflow model '" + name + "' version " + version + " has an empty download URI");
    }
    return new ResolvedVersion(name, version, downloadUri);
  }

  private boolean registeredModelExists(String name) {
    return retry
        .call(
            "get registered model",
            () -> http.getJson(api("registered-models/get", "name", name), "get MLflow model '" + name + "'"))
        .isPresent();
  }

  private FetchFailure modelNotFound(String name) {
    return FetchFailure.permanent(
        "MLflow registered model '" + name + "' not found on " + Redactor.displayUri(trackingUri));
  }

  private URI api(String endpoint, String... params) {
    StringBuilder uri = new StringBuilder(trackingUri).append("/api/2.0/mlflow/").append(endpoint);
    for (int i = 0; i < params.length; i += 2) {
      uri.append(i == 0 ? '?' : '&')
          .append(params[i])
          .append('=')
          .append(URLEncoder.encode(params[i + 1], StandardCharsets.UTF_8));
    }
    return URI.create(uri.toString());
  }
}
