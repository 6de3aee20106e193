package io.modelship.operator.packaging;

import io.modelship.operator.testing.OperatorHarness;
import java.nio.file.Path;

/**
 * Where the packaged artifacts live in the checkout. Tests run from the operator module directory; surefire
 * also passes the committed CRD's absolute path, so the repository root is found from either.
 */
final class RepoPaths {
  private RepoPaths() {}

  static Path root() {
    String root = System.getProperty("modelship.repo.root");
    if (root != null) {
      return Path.of(root);
    }
    // <root>/crds/modeldeployments.modelship.io-v1.yml
    return OperatorHarness.committedCrd().toAbsolutePath().normalize().getParent().getParent();
  }

  static Path chart() {
    return Path.of(System.getProperty("modelship.helm.chart", root().resolve("helm/modelship-operator").toString()));
  }

  static Path crds() {
    return root().resolve("crds");
  }

  static Path examples() {
    return root().resolve("examples");
  }
}
