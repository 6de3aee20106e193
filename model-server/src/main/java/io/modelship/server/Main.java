package io.modelship.server;

import io.modelship.server.fetch.FetchCommand;
import io.modelship.server.serve.ServeCommand;
import java.util.Arrays;

/**
 * Entry point of the model server image: the first argument picks the role, {@code fetch} (init container) or
 * {@code serve} (main container), as docs/pod-contract.md describes. It owns the process-wide settings that
 * must be in place before any library loads, and the exit code; it never does a role's work itself.
 */
public final class Main {
  static final String USAGE =
      """
      usage: model-server <role> [options]

      roles:
        fetch   download the model artifact into the model directory (init container)
        serve   serve the model over KServe v2 REST, /predictions and /metrics (main container)

      model-server <role> --help lists the role's options.
      """;

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] args) {
    keepDjlOffline();
    keepOnnxRuntimeQuiet();
    if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
      System.out.print(USAGE);
      return args.length == 0 ? 2 : 0;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    switch (args[0]) {
      case "fetch":
        return FetchCommand.run(rest);
      case "serve":
        return ServeCommand.run(rest);
      default:
        System.err.println("model-server: unknown role '" + args[0] + "'");
        System.err.print(USAGE);
        return 2;
    }
  }

  /**
   * DJL must never call home or download anything, whatever the environment says. Its own checks read the
   * environment first and these properties second, so they cover a container started without the variables;
   * they must be set before the first DJL class loads. Caches go to /tmp: the root filesystem is read-only.
   */
  static void keepDjlOffline() {
    System.setProperty("OPT_OUT_TRACKING", "true");
    System.setProperty("DJL_OFFLINE", "true");
    System.setProperty("ai.djl.offline", "true");
    // Only ONNX Runtime is on the classpath; do not let DJL look for a second engine.
    System.setProperty("ai.djl.onnx.disable_alternative", "true");
    String tmp = System.getProperty("java.io.tmpdir", "/tmp");
    setIfAbsent("DJL_CACHE_DIR", tmp + "/djl");
    setIfAbsent("ENGINE_CACHE_DIR", tmp + "/djl");
  }

  /**
   * ONNX Runtime 1.29 added telemetry on Linux: a persistent device id under ~/.cache/Microsoft, an offline event
   * store, /tmp/mat-debug-PID.log, and uploads to mobile.events.data.microsoft.com. It reads
   * {@code ORT_DISABLE_TELEMETRY} once, when its environment is created, and its API can switch telemetry off only
   * after that, too late for the device id and the first upload. A JVM cannot change its own environment, but the
   * C library can: the variable is set here, before ONNX Runtime loads. The image and the pod set it as well.
   */
  static void keepOnnxRuntimeQuiet() {
    // JNA unpacks its native part into a temporary directory; the pod's root filesystem is read-only.
    setIfAbsent("jna.tmpdir", System.getProperty("java.io.tmpdir", "/tmp"));
    if ("1".equals(System.getenv(ORT_DISABLE_TELEMETRY))) {
      return;
    }
    try {
      CLibrary.INSTANCE.setenv(ORT_DISABLE_TELEMETRY, "1", 1);
    } catch (LinkageError | RuntimeException e) {
      System.err.println("model-server: cannot set " + ORT_DISABLE_TELEMETRY + "=1 (" + e.getClass().getSimpleName()
          + "); set it in the environment to keep ONNX Runtime from sending telemetry");
    }
  }

  static final String ORT_DISABLE_TELEMETRY = "ORT_DISABLE_TELEMETRY";

  /** The one C library function the server needs. */
  private interface CLibrary extends com.sun.jna.Library {
    CLibrary INSTANCE = com.sun.jna.Native.load("c", CLibrary.class);

    int setenv(String name, String value, int overwrite);
  }

  private static void setIfAbsent(String name, String value) {
    if (System.getenv(name) == null && System.getProperty(name) == null) {
      System.setProperty(name, value);
    }
  }
}
