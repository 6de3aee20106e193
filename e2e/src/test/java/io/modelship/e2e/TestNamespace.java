package io.modelship.e2e;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What every end-to-end test class starts from, as a JUnit extension: the cluster (started by
 * {@link RealCluster.Extension}, which the class names first), and the class's own namespace, fresh, with the S3
 * server on the node and its credentials Secret ({@link ModelStore#inFreshNamespace}). Released after the class's
 * tests and its own {@code @AfterAll} methods.
 *
 * <pre>{@code
 * @ExtendWith({RealCluster.Extension.class, Diagnostics.class})
 * class SomeE2eTest {
 *   @RegisterExtension static final TestNamespace ns = new TestNamespace("e2e-some");
 * }</pre>
 */
final class TestNamespace implements BeforeAllCallback, AfterAllCallback {
  private final String name;
  private RealCluster cluster;
  private ModelStore store;

  TestNamespace(String name) {
    this.name = name;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    cluster = RealCluster.get();
    store = ModelStore.inFreshNamespace(cluster, name);
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (store != null) {
      store.close();
    }
  }

  RealCluster cluster() {
    return cluster;
  }

  ModelStore store() {
    return store;
  }
}
