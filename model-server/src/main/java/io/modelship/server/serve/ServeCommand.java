package io.modelship.server.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code model-server serve}: parses the options, runs the server until SIGTERM, and drains it from a shutdown
 * hook. Returns the process exit code: 0 after a clean drain, 1 when the model could not be served, 2 on a
 * usage error.
 */
public final class ServeCommand {
  private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

  private ServeCommand() {}

  public static int run(String[] args) {
    return run(args, System.getenv());
  }

  /**
   * Measured here: ONNX Runtime 1.29 on Linux dies with SIGSEGV, and no hs_err file, while creating its
   * environment when the process command line is longer than about 3.9 KB, as a classpath spelled out with -cp
   * easily is. Say so before it happens; an @argfile or Jib's classpath file keeps the command line short.
   */
  private static void warnIfCommandLineIsLong() {
    Path cmdline = Path.of("/proc/self/cmdline");
    try {
      if (Files.isReadable(cmdline) && Files.readAllBytes(cmdline).length > 3500) {
        LOG.warn("the command line is over 3500 bytes; ONNX Runtime 1.29 crashes without a trace near 4 KB."
            + " Pass the classpath in an @argfile");
      }
    } catch (IOException e) {
      LOG.debug("cannot read {}", cmdline, e);
    }
  }

  /** Turns {@code signal} into a stop request; without signal handling (-Xrs) the shutdown hook drains. */
  @SuppressWarnings("restriction")
  private static void handle(String signal, CompletableFuture<String> stopRequested) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal(signal), received -> stopRequested.complete(signal));
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      LOG.debug("cannot handle SIG{}: {}", signal, e.getMessage());
    }
  }

  static int run(String[] args, Map<String, String> env) {
    ServeOptions.Parsed parsed = ServeOptions.parse(args, env);
    if (parsed.help()) {
      System.out.print(ServeOptions.help());
      return 0;
    }
    Optional<String> problem = parsed.problem();
    if (problem.isPresent()) {
      System.err.println("model-server serve: " + problem.get());
      System.err.print(ServeOptions.help());
      return 2;
    }
    ServeOptions options = parsed.options().orElseThrow();
    warnIfCommandLineIsLong();
    ModelServer server;
    try {
      server = ModelServer.start(options, ServeHooks.NONE);
    } catch (Exception e) {
      LOG.error("cannot start: {}", e.getMessage());
      return 1;
    }
    // SIGTERM (and Ctrl-C) start the drain here instead of in a shutdown hook, so the process ends with exit
    // code 0 after a clean drain; a JVM that shuts down on a signal it did not handle exits with 128 + signal
    // (143 for SIGTERM), which reads as a failure. The hook stays for every other way the JVM may go down.
    CompletableFuture<String> stopRequested = new CompletableFuture<>();
    handle("TERM", stopRequested);
    handle("INT", stopRequested);
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdown, "drain-on-exit"));
    try {
      CompletableFuture.anyOf(server.whenReady(), stopRequested).get();
      if (!stopRequested.isDone()) {
        stopRequested.get();
      }
    } catch (ExecutionException e) {
      // Exiting lets Kubernetes show the failure (CrashLoopBackOff) instead of a pod that never turns ready.
      server.shutdown();
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdown();
      return 1;
    }
    LOG.info("SIG{} received", stopRequested.join());
    server.drainForExit();
    return 0;
  }
}
