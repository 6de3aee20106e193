package io.modelship.operator.packaging;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The parts of the apiserver's OpenAPI validation a YAML example can trip over: unknown fields (which the
 * apiserver would silently prune), types, required fields, patterns, lengths, ranges and enums. Not a full
 * JSON Schema implementation: x-kubernetes-validations (CEL) rules are not evaluated here.
 */
public final class CrdSchema {
  private final JSONSchemaProps root;

  private CrdSchema(JSONSchemaProps root) {
    this.root = root;
  }

  public static CrdSchema of(Path crdFile) {
    try (InputStream in = Files.newInputStream(crdFile)) {
      var crd = Serialization.unmarshal(in, CustomResourceDefinition.class);
      return new CrdSchema(crd.getSpec().getVersions().get(0).getSchema().getOpenAPIV3Schema());
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  JSONSchemaProps root() {
    return root;
  }

  /** Problems with {@code spec} of a custom resource, each prefixed by its path; empty when valid. */
  public List<String> validateSpec(JsonNode spec) {
    List<String> problems = new ArrayList<>();
    check("spec", spec, root.getProperties().get("spec"), problems);
    return problems;
  }

  private static void check(String path, JsonNode value, JSONSchemaProps schema, List<String> problems) {
    if (Boolean.TRUE.equals(schema.getXKubernetesIntOrString())) {
      if (!value.isIntegralNumber() && !value.isTextual()) {
        problems.add(path + ": must be an integer or a string");
      }
      return;
    }
    switch (schema.getType()) {
      case "object" -> checkObject(path, value, schema, problems);
      case "array" -> {
        if (!value.isArray()) {
          problems.add(path + ": must be a list");
          return;
        }
        for (int i = 0; i < value.size(); i++) {
          check(path + "[" + i + "]", value.get(i), schema.getItems().getSchema(), problems);
        }
      }
      case "string" -> checkString(path, value, schema, problems);
      case "integer" -> {
        if (!value.isIntegralNumber()) {
          problems.add(path + ": must be an integer, not " + value);
          return;
        }
        checkRange(path, value.asDouble(), schema, problems);
      }
      case "number" -> {
        if (!value.isNumber()) {
          problems.add(path + ": must be a number, not " + value);
          return;
        }
        checkRange(path, value.asDouble(), schema, problems);
      }
      case "boolean" -> {
        if (!value.isBoolean()) {
          problems.add(path + ": must be true or false, not " + value);
        }
      }
      default -> problems.add(path + ": schema type " + schema.getType() + " is not understood by this check");
    }
  }

  private static void checkObject(String path, JsonNode value, JSONSchemaProps schema, List<String> problems) {
    if (!value.isObject()) {
      problems.add(path + ": must be an object");
      return;
    }
    Map<String, JSONSchemaProps> properties = schema.getProperties();
    for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
      var field = it.next();
      String child = path + "." + field.getKey();
      if (properties != null && properties.containsKey(field.getKey())) {
        check(child, field.getValue(), properties.get(field.getKey()), problems);
      } else if (schema.getAdditionalProperties() != null && schema.getAdditionalProperties().getSchema() != null) {
        check(child, field.getValue(), schema.getAdditionalProperties().getSchema(), problems);
      } else if (!Boolean.TRUE.equals(schema.getXKubernetesPreserveUnknownFields())) {
        problems.add(child + ": unknown field (the apiserver would drop it)");
      }
    }
    if (schema.getRequired() != null) {
      for (String required : schema.getRequired()) {
        if (!value.has(required)) {
          problems.add(path + "." + required + ": required");
        }
      }
    }
  }

  private static void checkString(String path, JsonNode value, JSONSchemaProps schema, List<String> problems) {
    if (!value.isTextual()) {
      problems.add(path + ": must be a string, not " + value);
      return;
    }
    String s = value.asText();
    if (schema.getPattern() != null && !Pattern.compile(schema.getPattern()).matcher(s).find()) {
      problems.add(path + ": '" + s + "' does not match " + schema.getPattern());
    }
    if (schema.getMinLength() != null && s.length() < schema.getMinLength()) {
      problems.add(path + ": shorter than " + schema.getMinLength());
    }
    if (schema.getMaxLength() != null && s.length() > schema.getMaxLength()) {
      problems.add(path + ": longer than " + schema.getMaxLength());
    }
    if (schema.getEnum() != null && !schema.getEnum().isEmpty()
        && schema.getEnum().stream().noneMatch(e -> e.asText().equals(s))) {
      problems.add(path + ": '" + s + "' is not one of " + schema.getEnum());
    }
  }

  private static void checkRange(String path, double v, JSONSchemaProps schema, List<String> problems) {
    if (schema.getMinimum() != null && v < schema.getMinimum()) {
      problems.add(path + ": below the minimum " + schema.getMinimum());
    }
    if (schema.getMaximum() != null && v > schema.getMaximum()) {
      problems.add(path + ": above the maximum " + schema.getMaximum());
    }
  }
}
