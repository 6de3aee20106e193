package io.modelship.server.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A cached virtualenv of pinned PyPI packages for tests that need a real third-party Python program, made once by
 * src/test/scripts/venv.sh (which serialises concurrent builds with a lock).
 */
public final class PythonVenv {
  private PythonVenv() {}

  /** Why no venv can be made here (no python3), or empty when one can. */
  public static Optional<String> unavailableReason() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "python3"))) {
        return Optional.empty();
      }
    }
    return Optional.of("python3 is not on PATH, so no Python virtualenv can be made");
  }

  /** The venv's directory, created on first use with {@code packages} (each pinned, {@code name==version}). */
  public static Path create(String name, String... packages) throws IOException, InterruptedException {
    Path script = scripts().resolve("venv.sh");
    List<String> command = new ArrayList<>(List.of("bash", script.toString(), name));
    command.addAll(List.of(packages));
    Process install = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(install.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (!install.waitFor(15, TimeUnit.MINUTES) || install.exitValue() != 0) {
      throw new IllegalStateException("venv.sh " + name + " failed (exit " + install.exitValue() + "): " + out);
    }
    String[] lines = out.split("\n");
    return Path.of(lines[lines.length - 1].strip());
  }

  /** src/test/scripts of the model-server module, also when another module's tests run from its own directory. */
  public static Path scripts() {
    Path here = Path.of("src/test/scripts").toAbsolutePath();
    return Files.isDirectory(here) ? here : Path.of("../model-server/src/test/scripts").toAbsolutePath();
  }
}
