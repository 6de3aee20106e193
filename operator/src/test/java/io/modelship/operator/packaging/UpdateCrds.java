package io.modelship.operator.packaging;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.modelship.operator.api.ModelDeployment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns the CRD the generator wrote into the one committed in crds/ (and copied into the chart): the same YAML,
 * but with the printer columns in the order ModelDeployment declares them. The generator sorts them by JSON path,
 * so `kubectl get mdep` would start with AGE and end with STABLE. Run by
 * {@code ./mvnw -pl operator -Pupdate-crds process-test-classes}; CrdTest checks the committed files against it.
 */
public final class UpdateCrds {
  private UpdateCrds() {}

  /** @param args the generated CRD, then every file to write */
  public static void main(String[] args) throws IOException {
    String committed = committedForm(Files.readString(Path.of(args[0])));
    for (String target : Arrays.copyOfRange(args, 1, args.length)) {
      Files.writeString(Path.of(target), committed);
      System.out.println("wrote " + target);
    }
  }

  /** The generated YAML with its printer columns reordered as declared on {@link ModelDeployment}. */
  public static String committedForm(String generated) {
    List<String> order = Arrays.stream(ModelDeployment.class.getAnnotationsByType(AdditionalPrinterColumn.class))
        .map(AdditionalPrinterColumn::name).toList();
    List<String> lines = new ArrayList<>(generated.lines().toList());
    int start = lines.indexOf("  - additionalPrinterColumns:");
    if (start < 0) {
      throw new IllegalStateException("the generated CRD has no additionalPrinterColumns");
    }
    // Each column is one "    - jsonPath: ..." line and its "      key: ..." lines.
    List<List<String>> columns = new ArrayList<>();
    int i = start + 1;
    while (i < lines.size() && (lines.get(i).startsWith("    - ") || lines.get(i).startsWith("      "))) {
      if (lines.get(i).startsWith("    - ")) {
        columns.add(new ArrayList<>());
      }
      columns.get(columns.size() - 1).add(lines.get(i));
      i++;
    }
    columns.sort((a, b) -> Integer.compare(position(order, a), position(order, b)));
    List<String> out = new ArrayList<>(lines.subList(0, start + 1));
    columns.forEach(out::addAll);
    out.addAll(lines.subList(i, lines.size()));
    return String.join("\n", out) + "\n";
  }

  private static int position(List<String> order, List<String> column) {
    String name = column.stream().filter(l -> l.strip().startsWith("name: ")).findFirst()
        .map(l -> l.strip().substring("name: ".length()).replace("\"", "")).orElseThrow();
    int index = order.indexOf(name);
    if (index < 0) {
      throw new IllegalStateException("printer column " + name + " is not declared on ModelDeployment");
    }
    return index;
  }
}
