package io.modelship.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.modelship.operator.api.ModelDeployment;
import io.modelship.operator.api.spec.ModelDeploymentSpec;
import io.modelship.operator.inplace.PlacementOrder;
import io.modelship.operator.packaging.CrdSchema;
import io.modelship.operator.resources.RevisionDeployment;
import io.modelship.operator.revision.Revision;
import io.modelship.operator.rollout.RolloutSettings;
import io.modelship.operator.rollout.TrafficPlan;
import io.modelship.operator.rollout.TrafficSplit;
import io.modelship.operator.testing.OperatorHarness;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/**
 * Generated ModelDeployments, thousands of them from a fixed seed, mixing valid and hostile values in every field
 * the CRD has. Each goes where a real one would: refused by the schema (as the API server would), or reported by
 * the operator's validation, or turned into the objects and plans a rollout is made of. Nothing may throw on the
 * way, and each kind of outcome must occur. A sample also goes through the running reconciler on the mock API
 * server: every one ends with a Deployment or a clear condition (InvalidSpec, or SourceUnresolved for a moving source
 * with no registry to resolve it here).
 */
class SpecFuzzTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final CrdSchema SCHEMA = CrdSchema.of(OperatorHarness.committedCrd());
  private static final String IMAGE = "modelship/model-server:fuzz";
  private static final BiFunction<String, String, Optional<Secret>> SECRETS = (ns, name) -> switch (name) {
    case "creds" -> Optional.of(secret(name, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"));
    case "api-key" -> Optional.of(secret(name, "api-key"));
    case "half" -> Optional.of(secret(name, "AWS_ACCESS_KEY_ID"));
    default -> Optional.empty();
  };

  private static Secret secret(String name, String... keys) {
    var builder = new SecretBuilder().withNewMetadata().withName(name).withNamespace("ml").endMetadata();
    for (String key : keys) {
      builder.addToData(key, "eA==");
    }
    return builder.build();
  }

  /** What became of one generated spec. */
  enum Outcome { REFUSED_BY_SCHEMA, REPORTED, DEPLOYABLE }

  @Test
  void thousandsOfGeneratedSpecsAreRefusedReportedOrDeployedAndNothingThrows() {
    Map<Outcome, Integer> outcomes = new java.util.EnumMap<>(Outcome.class);
    Random random = new Random(20261130);
    for (int i = 0; i < 4000; i++) {
      ObjectNode spec = generate(random);
      Outcome outcome;
      try {
        outcome = judge(spec);
      } catch (RuntimeException e) {
        throw new AssertionError("case " + i + " threw " + e + " for spec " + spec, e);
      }
      outcomes.merge(outcome, 1, Integer::sum);
    }
    System.out.println("SpecFuzzTest: 4000 generated specs: " + outcomes);
    assertThat(outcomes.keySet()).containsExactlyInAnyOrder(Outcome.values());
    outcomes.values().forEach(n -> assertThat(n).isGreaterThan(400));
  }

  @Test
  void aSampleGoesThroughTheRunningReconcilerToADeploymentOrAClearCondition() throws Exception {
    Random random = new Random(7);
    List<ModelDeployment> sample = new ArrayList<>();
    List<Outcome> expected = new ArrayList<>();
    while (sample.size() < 40) {
      ObjectNode spec = generate(random);
      Outcome outcome = judge(spec);
      if (outcome == Outcome.REFUSED_BY_SCHEMA) {
        continue;
      }
      ModelDeployment mdep = new ModelDeployment();
      mdep.setMetadata(new ObjectMetaBuilder().withName("fuzz-" + sample.size()).build());
      mdep.setSpec(Serialization.jsonMapper().treeToValue(spec, ModelDeploymentSpec.class));
      sample.add(mdep);
      expected.add(outcome);
    }
    try (var k8s = new OperatorHarness().start()) {
      for (String name : List.of("creds", "api-key", "half")) {
        var secret = SECRETS.apply("ml", name).orElseThrow();
        secret.getMetadata().setNamespace(OperatorHarness.NAMESPACE);
        k8s.client.resource(secret).create();
      }
      sample.forEach(k8s::create);
      for (int i = 0; i < sample.size(); i++) {
        String name = sample.get(i).getMetadata().getName();
        Outcome outcome = expected.get(i);
        await(name + " (" + outcome + ")").atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
          var status = k8s.status(name);
          assertThat(status).as("a status").isNotNull();
          var ready = OperatorHarness.condition(status, Conditions.READY);
          assertThat(ready).as("a Ready condition").isNotNull();
          if (outcome == Outcome.REPORTED) {
            assertThat(ready.getReason()).isEqualTo("InvalidSpec");
            assertThat(ready.getMessage()).isNotBlank();
          } else if (k8s.deployments().stream().noneMatch(d -> d.getMetadata().getName().startsWith(name + "-"))) {
            // A moving source (an MLflow alias, S3 latest) must be resolved first, and no registry runs here.
            assertThat(ready.getReason()).as("no Deployment, so the reason why").isEqualTo("SourceUnresolved");
            assertThat(ready.getMessage()).contains("cannot be resolved");
          }
        });
      }
      long reported = expected.stream().filter(o -> o == Outcome.REPORTED).count();
      System.out.printf("SpecFuzzTest: %d specs through the reconciler: %d reported, %d deployed%n", sample.size(),
          reported, sample.size() - reported);
      assertThat(reported).isBetween(1L, (long) sample.size() - 1);
    }
  }

  /** Where a spec ends: the schema's verdict, the operator's validation, or the objects of a deployment. */
  private static Outcome judge(ObjectNode spec) {
    if (!SCHEMA.validateSpec(spec).isEmpty()) {
      return Outcome.REFUSED_BY_SCHEMA;
    }
    ModelDeployment mdep = new ModelDeployment();
    mdep.setMetadata(new ObjectMetaBuilder().withName("fuzz").withNamespace("ml").withUid("uid").build());
    try {
      mdep.setSpec(Serialization.jsonMapper().treeToValue(spec, ModelDeploymentSpec.class));
    } catch (IllegalArgumentException | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError("the schema accepted what the operator cannot read: " + spec, e);
    }
    Revision revision = Revision.of(mdep, IMAGE);
    Set<String> reserved = RevisionDeployment.reservedEnv(revision.template());
    List<String> problems = new SpecValidator(SECRETS).validate(mdep, true, reserved);
    if (!problems.isEmpty()) {
      assertThat(problems).allSatisfy(p -> assertThat(p).isNotBlank());
      return Outcome.REPORTED;
    }
    var settings = RolloutSettings.of(mdep.getSpec());
    var deployment = RevisionDeployment.desired(mdep, revision, settings.replicas());
    assertThat(deployment.getSpec().getTemplate().getSpec().getContainers()).hasSize(1);
    for (int step = 0; step < settings.steps().size(); step++) {
      settings.pause(step);
      TrafficPlan.forWeight(settings.replicas(), settings.step(step).getWeight(), settings.surge(), 0, settings.replicas());
    }
    TrafficSplit.coarseness(settings);
    revision.inPlaceKey();
    PlacementOrder.of(revision).toString();
    return Outcome.DEPLOYABLE;
  }

  // ------------------------------------------------------------------------------------------------ generator

  private static <T> T pick(Random r, List<T> values) {
    return values.get(r.nextInt(values.size()));
  }

  /** One of the first {@code good} values, or now and then (1 in 12) one of the others, which are wrong. */
  private static <T> T mostly(Random r, int good, List<T> values) {
    if (good >= values.size() || r.nextInt(12) > 0) {
      return values.get(r.nextInt(good));
    }
    return values.get(good + r.nextInt(values.size() - good));
  }

  private static boolean maybe(Random r, double p) {
    return r.nextDouble() < p;
  }

  private static void put(ObjectNode node, String field, Object value) {
    if (value == null) {
      return;
    }
    node.set(field, JSON.valueToTree(value));
  }

  static ObjectNode generate(Random r) {
    ObjectNode spec = JSON.createObjectNode();
    if (maybe(r, 0.97)) {
      ObjectNode model = spec.putObject("model");
      put(model, "name", mostly(r, 3, List.of("iris", "iris", "sentiment-v2", "My Model", "", "m".repeat(70), "a.b_c-1")));
      if (maybe(r, 0.97)) {
        ObjectNode source = model.putObject("source");
        int kind = r.nextInt(10);
        if (kind < 6 || kind == 9) {
          ObjectNode s3 = source.putObject("s3");
          put(s3, "uri", mostly(r, 3, List.of("s3://models/iris/1/", "s3://models/iris/model.onnx", "s3://models/iris/",
              "https://example.com/m.onnx", "s3://A_B/x", "s3://models/" + "x".repeat(1100))));
          put(s3, maybe(r, 0.3) ? "endpoint" : "ignored", maybe(r, 0.3) ? mostly(r, 1, List.of("http://minio:9000", "minio:9000"))
              : null);
          s3.remove("ignored");
          put(s3, "region", maybe(r, 0.2) ? mostly(r, 1, List.of("eu-west-1", "US East")) : null);
          put(s3, "credentialsSecret", maybe(r, 0.4) ? mostly(r, 2, List.of("creds", "creds", "half", "missing", "Bad_Name"))
              : null);
          put(s3, "version", maybe(r, 0.15) ? mostly(r, 1, List.of("latest", "newest")) : null);
        }
        if (kind >= 6) {
          ObjectNode mlflow = source.putObject("mlflow");
          put(mlflow, "trackingUri", mostly(r, 1, List.of("http://mlflow:5000", "mlflow:5000")));
          put(mlflow, "name", mostly(r, 1, List.of("iris", "fraud detector")));
          if (maybe(r, 0.5)) {
            put(mlflow, "alias", mostly(r, 1, List.of("champion", "")));
          }
          if (maybe(r, 0.6)) {
            put(mlflow, "version", mostly(r, 2, List.of("3", "0", "latest", "12")));
          }
          put(mlflow, "credentialsSecret", maybe(r, 0.2) ? mostly(r, 1, List.of("creds", "missing")) : null);
        }
        if (maybe(r, 0.2)) {
          put(source.putObject("tracking"), "interval", mostly(r, 3, List.of("30s", "2s", "1m", "soon", "10s")));
        }
      }
      put(model, "sha256", maybe(r, 0.2) ? mostly(r, 1, List.of("a".repeat(64), "abc", "A".repeat(64))) : null);
    }
    put(spec, "replicas", maybe(r, 0.7) ? mostly(r, 7, List.<Object>of(0, 1, 2, 3, 4, 10, 1000, 1001, -1, "two")) : null);
    if (maybe(r, 0.4)) {
      ObjectNode resources = spec.putObject("resources");
      put(resources, "cpu", maybe(r, 0.6) ? mostly(r, 2, List.of("500m", "2", "lots", "1e3", "0.5")) : null);
      put(resources, "memory", maybe(r, 0.6) ? mostly(r, 2, List.of("1Gi", "512Mi", "12XB", "4G")) : null);
      if (maybe(r, 0.4)) {
        ObjectNode gpu = resources.putObject("gpu");
        put(gpu, "count", maybe(r, 0.8) ? mostly(r, 2, List.of(1, 2, 0, 16, 17)) : null);
        put(gpu, "type", maybe(r, 0.4) ? mostly(r, 1, List.of("NVIDIA-A100-SXM4-80GB", "bad type")) : null);
        put(gpu, "migProfile", maybe(r, 0.3) ? mostly(r, 2, List.of("1g.10gb", "3g.40gb", "1g")) : null);
      }
    }
    if (maybe(r, 0.7)) {
      ObjectNode rollout = spec.putObject("rollout");
      put(rollout, "strategy", maybe(r, 0.4) ? mostly(r, 3, List.of("canary", "inPlace", "inPlace", "blueGreen")) : null);
      if (maybe(r, 0.7)) {
        ArrayNode steps = rollout.putArray("steps");
        int n = maybe(r, 0.95) ? 1 + r.nextInt(5) : pick(r, List.of(0, 11));
        int weight = 0;
        for (int i = 0; i < n; i++) {
          ObjectNode step = steps.addObject();
          weight = maybe(r, 0.95) ? Math.min(100, weight + 1 + r.nextInt(60)) : pick(r, List.of(-5, 0, 150, weight));
          if (i == n - 1 && maybe(r, 0.95)) {
            weight = 100;
          }
          step.put("weight", weight);
          put(step, "pause", maybe(r, 0.5) ? mostly(r, 3, List.of("10s", "1m", "0s", "5 minutes", "1h30m")) : null);
          if (maybe(r, 0.1)) {
            step.put("shadow", true);
            if (maybe(r, 0.7)) {
              step.put("weight", 0);
            }
          }
        }
      }
      put(rollout, "surge", maybe(r, 0.3) ? mostly(r, 4, List.of(0, 1, 3, 10, 11, -1)) : null);
      put(rollout, "paused", maybe(r, 0.1) ? Boolean.TRUE : null);
      put(rollout, "progressDeadline", maybe(r, 0.2) ? mostly(r, 1, List.of("10m", "ten minutes", "30s")) : null);
      if (maybe(r, 0.1)) {
        put(rollout.putObject("inPlace"), "fallbackToPods", r.nextBoolean());
      }
      if (maybe(r, 0.15)) {
        put(rollout.putObject("shadow"), "share", mostly(r, 2, List.of(1.0, 0.5, 0.0, 2.0)));
      }
      if (maybe(r, 0.15)) {
        ObjectNode traffic = rollout.putObject("traffic");
        int mode = r.nextInt(3);
        if (mode != 1) {
          traffic.putObject("service");
        }
        if (mode != 0) {
          ObjectNode gateway = traffic.putObject("gatewayAPI");
          put(gateway, "httpRoute", mostly(r, 1, List.of("route", "Bad Route")));
          if (maybe(r, 0.8)) {
            gateway.putArray("parentRefs").addObject().put("name", "gw");
          }
        }
      }
      if (maybe(r, 0.6)) {
        ObjectNode analysis = rollout.putObject("analysis");
        put(analysis, "interval", maybe(r, 0.5) ? mostly(r, 2, List.of("5s", "1s", "500ms", "0s", "often", "2m")) : null);
        put(analysis, "minRequests", maybe(r, 0.3) ? mostly(r, 3, List.of(0, 10, 50, -1)) : null);
        put(analysis, "failureLimit", maybe(r, 0.3) ? mostly(r, 3, List.of(1, 2, 5, 0)) : null);
        if (maybe(r, 0.7)) {
          ArrayNode gates = analysis.putArray("gates");
          int n = maybe(r, 0.97) ? r.nextInt(4) : 11;
          for (int i = 0; i < n; i++) {
            gates.add(gate(r));
          }
        }
      }
    }
    if (maybe(r, 0.4)) {
      ObjectNode server = spec.putObject("server");
      if (maybe(r, 0.5)) {
        ArrayNode env = server.putArray("env");
        int n = 1 + r.nextInt(3);
        for (int i = 0; i < n; i++) {
          ObjectNode var = env.addObject();
          var.put("name", mostly(r, 2, List.of("MY_FLAG", "MY_FLAG", "MODELSHIP_PORT", "MODELSHIP_CREDENTIALS_DIR", "JAVA_OPTS")));
          var.put("value", "1");
        }
      }
      if (maybe(r, 0.4)) {
        ObjectNode batching = server.putObject("batching");
        put(batching, "maxBatchSize", mostly(r, 2, List.of(1, 8, 0, 1024, 5000)));
        put(batching, "maxDelay", mostly(r, 2, List.of("2ms", "1s", "1m", "soon")));
      }
      if (maybe(r, 0.2)) {
        put(server.putObject("warmup"), "iterations", mostly(r, 3, List.of(0, 10, 10000, 20000)));
      }
      put(server, "apiKeySecret", maybe(r, 0.2) ? mostly(r, 1, List.of("api-key", "missing")) : null);
      put(server, "image", maybe(r, 0.2) ? mostly(r, 1, List.of("registry.example.com/model-server:2", "")) : null);
    }
    if (maybe(r, 0.15)) {
      ObjectNode autoscaling = spec.putObject("autoscaling");
      put(autoscaling, "minReplicas", maybe(r, 0.6) ? mostly(r, 3, List.<Object>of(1, 2, 0, 5000)) : null);
      put(autoscaling, "maxReplicas", maybe(r, 0.9) ? mostly(r, 3, List.<Object>of(4, 10, 1, 0, 1001)) : null);
      put(autoscaling, "metric", maybe(r, 0.6) ? mostly(r, 3, List.of("cpu", "inFlight", "queueDepth", "gpu")) : null);
      put(autoscaling, "target", maybe(r, 0.6) ? mostly(r, 3, List.<Object>of(70, 8, 0, 200000)) : null);
    }
    return spec;
  }

  private static JsonNode gate(Random r) {
    ObjectNode gate = JSON.createObjectNode();
    int kinds = maybe(r, 0.95) ? 1 : pick(r, List.of(0, 2));
    List<String> all = new ArrayList<>(List.of("errorRate", "latencyP99", "prometheus", "webhook",
        "predictionAgreement"));
    java.util.Collections.shuffle(all, r);
    if (maybe(r, 0.03)) {
      all.add(0, "accuracy");
    }
    for (String kind : all.subList(0, kinds)) {
      ObjectNode body = gate.putObject(kind);
      switch (kind) {
        case "errorRate" -> put(body, "max", mostly(r, 3, List.of(0.01, 0.0, 1.0, 1.5, -0.1)));
        case "latencyP99" -> {
          put(body, "maxMs", maybe(r, 0.5) ? mostly(r, 2, List.of(50, 0, -5)) : null);
          put(body, "maxRatio", maybe(r, 0.6) ? mostly(r, 2, List.of(1.5, 1.0, 0.5)) : null);
        }
        case "prometheus" -> {
          put(body, "address", mostly(r, 1, List.of("http://prometheus:9090", "prometheus:9090")));
          put(body, "query", "up");
          put(body, "max", maybe(r, 0.7) ? 1.0 : null);
        }
        case "webhook" -> put(body, "url", mostly(r, 1, List.of("http://judge/verdict", "judge/verdict")));
        case "predictionAgreement" -> put(body, "min", mostly(r, 1, List.of(0.95, 1.2, 0.0)));
        default -> put(body, "min", 0.9);
      }
    }
    return gate;
  }
}
