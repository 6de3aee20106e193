package io.modelship.operator.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Compiles every x-kubernetes-validations rule (and messageExpression) in crds/ with cel-java, so a syntax
 * error or a call to an unknown function fails here, not when `kubectl apply` of the CRD is refused.
 *
 * <p>The environment approximates the apiserver's: {@code self} and {@code oldSelf} are dyn (so field access
 * is not type-checked against the schema), with the standard macros and the extension libraries Kubernetes
 * enables that cel-java also has. Kubernetes' own libraries (quantity(), url(), isSorted(), ip(), ...) are not
 * declared: a rule that uses one must declare it here first.
 */
class CelRulesTest {
  private static final CelOptions OPTIONS = CelOptions.current().build();
  private static final CelCompiler COMPILER =
      CelCompilerFactory.standardCelCompilerBuilder()
          .setOptions(OPTIONS)
          .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
          .addVar("self", SimpleType.DYN)
          .addVar("oldSelf", SimpleType.DYN)
          .addLibraries(
              CelExtensions.strings(),
              CelExtensions.sets(OPTIONS),
              CelExtensions.optional(),
              CelExtensions.bindings(),
              CelExtensions.comprehensions())
          .build();

  record Rule(Path crd, String path, String expression) {
    @Override
    public String toString() {
      return crd.getFileName() + " " + path + ": " + expression;
    }
  }

  @Test
  void everyRuleInTheCommittedCrdsCompiles() throws IOException {
    List<Rule> rules = rules();
    // The walk must find the rules we know are there, or this test proves nothing.
    assertThat(rules).extracting(Rule::expression)
        .contains("has(self.s3) != has(self.mlflow)", "has(self.alias) != has(self.version)");
    List<String> errors = new ArrayList<>();
    for (Rule rule : rules) {
      CelValidationResult result = COMPILER.compile(rule.expression());
      if (result.hasError()) {
        errors.add(rule + "\n" + result.getErrorString());
      }
    }
    assertThat(errors).as("CEL rules that an apiserver would refuse").isEmpty();
  }

  @Test
  void brokenRulesAreCaught() {
    assertThat(COMPILER.compile("has(self.s3) != has(self.mlflow").hasError()).as("unbalanced parenthesis").isTrue();
    assertThat(COMPILER.compile("has(spec.s3)").hasError()).as("undeclared variable").isTrue();
    assertThat(COMPILER.compile("self.name.noSuchFunction()").hasError()).as("unknown function").isTrue();
    assertThat(COMPILER.compile("self.name.lowerAscii().startsWith('a')").hasError()).as("strings extension").isFalse();
    assertThat(COMPILER.compile("self.steps.all(s, s.weight <= 100)").hasError()).as("macro").isFalse();
  }

  /** The rules a real API server showed were missing or wrong, evaluated on the values that fooled them. */
  @Test
  void stepAndIntervalRulesRefuseWhatTheyShould() throws Exception {
    List<Rule> steps = rulesAt(".spec.rollout.steps");
    assertThat(steps).hasSize(2);
    var increasing = List.<Object>of(step(10), step(50), step(100));
    assertThat(allHold(steps, increasing)).isTrue();
    assertThat(allHold(steps, List.of(step(50), step(10), step(100)))).as("out of order").isFalse();
    assertThat(allHold(steps, List.of(step(10), step(10), step(100)))).as("repeated").isFalse();
    assertThat(allHold(steps, List.of(step(10), step(50)))).as("last step not 100").isFalse();
    // An empty list is the schema's minItems to refuse; a rule must not fail with "index out of bounds" on it.
    assertThat(allHold(steps, List.of())).as("empty").isTrue();

    // One step's own rule: weight 0 is a shadow step's, and a shadow step has weight 0.
    List<Rule> step = rules().stream().filter(r -> r.expression().contains("self.shadow")).toList();
    assertThat(step).hasSize(1);
    assertThat(allHold(step, java.util.Map.of("weight", 0L, "shadow", true))).isTrue();
    assertThat(allHold(step, java.util.Map.of("weight", 10L))).isTrue();
    assertThat(allHold(step, java.util.Map.of("weight", 0L))).as("weight 0 without shadow").isFalse();
    assertThat(allHold(step, java.util.Map.of("weight", 10L, "shadow", true))).as("a shadow step with traffic").isFalse();
    assertThat(allHold(steps, List.of(java.util.Map.of("weight", 0L, "shadow", true), step(50), step(100))))
        .as("a shadow step first").isTrue();

    List<Rule> interval = rulesAt(".spec.rollout.analysis.interval");
    assertThat(allHold(interval, "0s")).isFalse();
    assertThat(allHold(interval, "500ms")).isFalse();
    assertThat(allHold(interval, "1s")).isTrue();
    assertThat(allHold(interval, "1m30s")).isTrue();
  }

  private static java.util.Map<String, Object> step(long weight) {
    return java.util.Map.of("weight", weight);
  }

  private static List<Rule> rulesAt(String path) throws IOException {
    return rules().stream().filter(r -> r.path().equals(path)).toList();
  }

  private static boolean allHold(List<Rule> rules, Object self) throws Exception {
    var runtime = dev.cel.runtime.CelRuntimeFactory.standardCelRuntimeBuilder().setOptions(OPTIONS).build();
    for (Rule rule : rules) {
      var ast = COMPILER.compile(rule.expression()).getAst();
      Object result = runtime.createProgram(ast).eval(java.util.Map.of("self", self));
      if (!Boolean.TRUE.equals(result)) {
        return false;
      }
    }
    return true;
  }

  private static List<Rule> rules() throws IOException {
    List<Rule> rules = new ArrayList<>();
    try (Stream<Path> files = Files.list(RepoPaths.crds())) {
      for (Path crd : files.filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml")).sorted().toList()) {
        collect(crd, "", CrdSchema.of(crd).root(), rules);
      }
    }
    return rules;
  }

  private static void collect(Path crd, String path, JSONSchemaProps schema, List<Rule> rules) {
    if (schema == null) {
      return;
    }
    if (schema.getXKubernetesValidations() != null) {
      for (var validation : schema.getXKubernetesValidations()) {
        rules.add(new Rule(crd, path.isEmpty() ? "<root>" : path, validation.getRule()));
        if (validation.getMessageExpression() != null) {
          rules.add(new Rule(crd, path + " (messageExpression)", validation.getMessageExpression()));
        }
      }
    }
    if (schema.getProperties() != null) {
      schema.getProperties().forEach((name, child) -> collect(crd, path + "." + name, child, rules));
    }
    if (schema.getItems() != null) {
      collect(crd, path + "[]", schema.getItems().getSchema(), rules);
    }
    if (schema.getAdditionalProperties() != null) {
      collect(crd, path + ".*", schema.getAdditionalProperties().getSchema(), rules);
    }
  }
}
