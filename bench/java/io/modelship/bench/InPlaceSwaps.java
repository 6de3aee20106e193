package io.modelship.bench;

import io.modelship.server.onnx.OnnxModels;
import io.modelship.server.onnx.OnnxModels.Mlp;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * In-place swaps under load (bench/inplace.sh): a running model server (pid, port) is told over /admin/versions
 * to replace the version it serves with the next one, {@code swaps} times in a row, while {@code concurrency}
 * clients post inference requests without pause. Each swap fetches the next version over HTTP, loads and warms it
 * beside the serving one, switches, and unloads the old. Prints one line per swap (how long it took, the server's
 * RSS after the old version was unloaded, p99 during the swap and in the steady seconds after it) and a summary;
 * every request the clients sent is counted, and any answer but 200 is an error. Model versions are written with
 * the test utility {@link OnnxModels}: {@code versions} files of the same shape, different weights.
 *
 * <p>usage: InPlaceSwaps MODELS_DIR write VERSIONS | InPlaceSwaps MODELS_DIR run PID PORT MODELS_URL TOKEN SWAPS
 * CONCURRENCY STEADY_SECONDS BODY_FILE
 */
public final class InPlaceSwaps {
  private static final Mlp SHAPE = Mlp.computeHeavy();

  private record Sample(long at, long nanos, int status) {}

  public static void main(String[] args) throws Exception {
    Path models = Path.of(args[0]);
    if (args[1].equals("write")) {
      int versions = Integer.parseInt(args[2]);
      for (int v = 0; v <= versions; v++) {
        Path file = OnnxModels.writeMlp(models.resolve("v" + v), new Mlp(SHAPE.features(), SHAPE.hidden(),
            SHAPE.hiddenLayers(), SHAPE.classes(), 1000 + v));
        if (v == 0) {
          System.out.printf(Locale.ROOT, "%d versions of %d parameters, %.1f MiB each%n", versions + 1,
              SHAPE.parameters(), Files.size(file) / 1048576.0);
        }
      }
      return;
    }
    long pid = Long.parseLong(args[2]);
    int port = Integer.parseInt(args[3]);
    String modelsUrl = args[4];
    String token = args[5];
    int swaps = Integer.parseInt(args[6]);
    int concurrency = Integer.parseInt(args[7]);
    int steadySeconds = Integer.parseInt(args[8]);
    String body = Files.readString(Path.of(args[9]));
    HttpClient admin = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI infer = URI.create("http://127.0.0.1:" + port + "/v2/models/heavy/infer");
    URI versions = URI.create("http://127.0.0.1:" + port + "/admin/versions");

    ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < concurrency; c++) {
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      Thread t = new Thread(() -> {
        HttpRequest request = HttpRequest.newBuilder(infer).POST(HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json").timeout(Duration.ofSeconds(30)).build();
        while (!stop.get()) {
          long start = System.nanoTime();
          int status;
          try {
            status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
          } catch (IOException e) {
            status = -1;
            errors.add(e.getClass().getSimpleName());
          } catch (InterruptedException e) {
            return;
          }
          samples.add(new Sample(start, System.nanoTime() - start, status));
        }
      }, "client-" + c);
      t.setDaemon(true);
      clients.add(t);
      t.start();
    }

    long runStart = System.nanoTime();
    Thread.sleep(steadySeconds * 1000L);
    double rssStart = rssMib(pid);
    System.out.printf(Locale.ROOT, "| swap | to version | took (ms) | RSS after (MiB) | p99 during swap (ms) | p99 steady after (ms) |%n");
    System.out.printf(Locale.ROOT, "|---|---|---|---|---|---|%n");
    System.out.printf(Locale.ROOT, "| 0 | v0 (loaded at start) | - | %.0f | - | %.2f |%n", rssStart,
        p99(samples, runStart, System.nanoTime()));
    List<long[]> swapWindows = new ArrayList<>();
    List<long[]> steadyWindows = new ArrayList<>();
    List<Double> rss = new ArrayList<>(List.of(rssStart));
    String current = "v0";
    for (int s = 1; s <= swaps; s++) {
      String next = "v" + s;
      String placement = "{\"primary\":{\"version\":\"" + next + "\",\"source\":\"" + modelsUrl + "/" + next
          + "/model.onnx\"}}";
      long start = System.nanoTime();
      HttpResponse<String> put = admin.send(HttpRequest.newBuilder(versions).header("Authorization", "Bearer " + token)
          .PUT(HttpRequest.BodyPublishers.ofString(placement)).build(), HttpResponse.BodyHandlers.ofString());
      if (put.statusCode() != 200) {
        throw new IllegalStateException("PUT /admin/versions answered " + put.statusCode() + ": " + put.body());
      }
      // Done when the server holds only the new version, ready: the old one has been unloaded.
      String expect = "[{\"version\":\"" + next + "\",\"state\":\"READY\"";
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (true) {
        String shown = admin.send(HttpRequest.newBuilder(versions).header("Authorization", "Bearer " + token).GET()
            .build(), HttpResponse.BodyHandlers.ofString()).body();
        if (shown.contains("\"versions\":" + expect) && !shown.contains("\"version\":\"" + current + "\"")) {
          break;
        }
        if (shown.contains("\"FAILED\"")) {
          throw new IllegalStateException("the swap to " + next + " failed: " + shown);
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the swap to " + next + " did not finish in 2 minutes: " + shown);
        }
        Thread.sleep(20);
      }
      long end = System.nanoTime();
      swapWindows.add(new long[] {start, end});
      Thread.sleep(steadySeconds * 1000L);
      long steadyEnd = System.nanoTime();
      steadyWindows.add(new long[] {end, steadyEnd});
      double after = rssMib(pid);
      rss.add(after);
      System.out.printf(Locale.ROOT, "| %d | %s | %.0f | %.0f | %.2f | %.2f |%n", s, next, (end - start) / 1e6, after,
          p99(samples, start, end), p99(samples, end, steadyEnd));
      current = next;
    }
    stop.set(true);
    for (Thread t : clients) {
      t.join(35_000);
    }
    long total = samples.size();
    long bad = samples.stream().filter(x -> x.status() != 200).count();
    double duringSwaps = p99In(samples, swapWindows);
    double steady = p99In(samples, steadyWindows);
    System.out.printf(Locale.ROOT, "%nrequests %d, errors %d (%s); p99 during swaps %.2f ms, steady %.2f ms (ratio"
            + " %.2f); RSS first %.0f MiB, after swap 1 %.0f MiB, after swap %d %.0f MiB (growth from swap 1 to %d:"
            + " %.0f MiB)%n", total, bad, errors.isEmpty() ? "no transport errors" : String.join(",", errors.stream()
            .distinct().toList()), duringSwaps, steady, duringSwaps / steady, rss.get(0), rss.get(1), swaps,
        rss.get(swaps), swaps, rss.get(swaps) - rss.get(1));
    System.out.printf(Locale.ROOT, "RESULT {\"requests\":%d,\"errors\":%d,\"p99SwapMs\":%.3f,\"p99SteadyMs\":%.3f,"
        + "\"rssMib\":%s}%n", total, bad, duringSwaps, steady, rss.toString());
  }

  private static double p99(ConcurrentLinkedQueue<Sample> samples, long from, long to) {
    return p99In(samples, List.<long[]>of(new long[] {from, to}));
  }

  /** p99 in ms of the requests that started inside any of the windows. */
  private static double p99In(ConcurrentLinkedQueue<Sample> samples, List<long[]> windows) {
    long[] in = samples.stream().filter(x -> windows.stream().anyMatch(w -> x.at() >= w[0] && x.at() < w[1]))
        .mapToLong(Sample::nanos).sorted().toArray();
    if (in.length == 0) {
      return Double.NaN;
    }
    return in[Math.min(in.length - 1, (int) Math.ceil(in.length * 0.99) - 1)] / 1e6;
  }

  private static double rssMib(long pid) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
      }
    }
    throw new IOException("no VmRSS for pid " + pid);
  }
}
