package io.modelship.e2e;

import io.modelship.e2e.RolloutWatch.Mark;
import io.modelship.e2e.RolloutWatch.Rates;
import io.modelship.e2e.RolloutWatch.Sample;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * A rollout drawn as one self-contained SVG (no script, no font or file to fetch): the canary's weight, then request
 * rate, 5xx rate and p99 per model version over time, all from the pods' own metrics, with the steps, the promotion
 * and the rollback marked. The HTML page wraps it with the summary table and the timeline.
 */
final class RolloutPicture {
  private static final String[] COLOURS = {"#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#8c564b"};
  private static final int WIDTH = 960;
  private static final int LEFT = 70;
  private static final int RIGHT = 130;
  private static final int PANEL = 130;
  private static final int GAP = 34;
  private static final int TOP = 50;

  private final List<Sample> samples;
  private final List<Mark> marks;
  private final List<String> versions;
  private final double tMin;
  private final double tMax;
  private final StringBuilder svg = new StringBuilder();

  private RolloutPicture(List<Sample> samples, List<Mark> marks, List<String> versions) {
    this.samples = samples;
    this.marks = marks;
    this.versions = versions;
    double last = samples.isEmpty() ? 1 : samples.get(samples.size() - 1).t();
    // From shortly before the first request: the seconds before it (the cluster making v1's pods) show nothing.
    double first = samples.stream().filter(s -> !s.byVersion().isEmpty()).mapToDouble(Sample::t).findFirst().orElse(0);
    this.tMin = Math.max(0, Math.floor((first - 2) / 5) * 5);
    this.tMax = Math.max(tMin + 10, Math.ceil(last / 10) * 10);
  }

  /** The picture of {@code samples}, with a line per version in {@code versions} (in this order and colour). */
  static String svg(String title, List<Sample> samples, List<Mark> marks, List<String> versions) {
    return new RolloutPicture(samples, marks, versions).draw(title);
  }

  private String draw(String title) {
    int height = TOP + 4 * (PANEL + GAP) + 10;
    svg.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"").append(height)
        .append("\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(height)
        .append("\" font-family=\"sans-serif\" font-size=\"11\">\n")
        .append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    text(LEFT, 22, escape(title), "font-size=\"15\" font-weight=\"bold\"");
    int y = TOP;
    weightPanel(y);
    y += PANEL + GAP;
    panel(y, "requests/s", false, Rates::perSecond);
    y += PANEL + GAP;
    panel(y, "5xx share (%)", true, r -> 100 * r.errorRate());
    y += PANEL + GAP;
    panel(y, "p99 latency (ms)", false, Rates::p99Millis);
    legend();
    svg.append("</svg>\n");
    return svg.toString();
  }

  private void weightPanel(int y) {
    frame(y, "canary weight (%)", 100);
    List<double[]> asked = new ArrayList<>();
    List<double[]> seen = new ArrayList<>();
    for (Sample s : samples) {
      asked.add(new double[] {s.t(), s.stepWeight() == null ? Double.NaN : s.stepWeight()});
      seen.add(new double[] {s.t(), s.weight() == null ? Double.NaN : s.weight()});
    }
    line(y, 100, asked, "#ff7f0e", "stroke-dasharray=\"6 4\"");
    line(y, 100, seen, "#ff7f0e", "");
    text(WIDTH - RIGHT + 8, y + 14, "step asks", "fill=\"#ff7f0e\"");
    text(WIDTH - RIGHT + 8, y + 28, "(dashed)", "fill=\"#ff7f0e\"");
    text(WIDTH - RIGHT + 8, y + 46, "observed", "fill=\"#ff7f0e\"");
    markLines(y, true);
  }

  private void panel(int y, String label, boolean percent, ToDoubleFunction<Rates> value) {
    double max = 0;
    for (Sample s : samples) {
      for (Rates r : s.byVersion().values()) {
        double v = value.applyAsDouble(r);
        if (!Double.isNaN(v) && !Double.isInfinite(v)) {
          max = Math.max(max, v);
        }
      }
    }
    max = percent ? 100 : niceCeiling(max);
    frame(y, label, max);
    for (int i = 0; i < versions.size(); i++) {
      String version = versions.get(i);
      List<double[]> points = new ArrayList<>();
      for (Sample s : samples) {
        Rates r = s.byVersion().get(version);
        points.add(new double[] {s.t(), r == null ? Double.NaN : value.applyAsDouble(r)});
      }
      line(y, max, points, colour(i), "");
    }
    markLines(y, false);
  }

  private void frame(int y, String label, double max) {
    int x1 = WIDTH - RIGHT;
    svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#999\"/>%n",
        LEFT, y, x1 - LEFT, PANEL));
    text(LEFT, y - 6, escape(label), "font-weight=\"bold\"");
    // Five divisions where that gives round labels (0, 10, ... 50), else four (0, 0.5, ... 2).
    int divisions = max / 5 == Math.rint(max / 5) ? 5 : 4;
    for (int i = 0; i <= divisions; i++) {
      double v = max * i / divisions;
      double py = y + PANEL - PANEL * (double) i / divisions;
      svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>%n",
          LEFT, py, x1, py));
      text(LEFT - 6, py + 4, format(v), "text-anchor=\"end\" fill=\"#555\"");
    }
    double span = tMax - tMin;
    double tick = span <= 60 ? 10 : span <= 120 ? 15 : span <= 300 ? 30 : 60;
    for (double t = Math.ceil(tMin / tick) * tick; t <= tMax + 1e-9; t += tick) {
      double px = x(t);
      svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#999\"/>%n",
          px, y + PANEL, px, y + PANEL + 4));
      text(px, y + PANEL + 15, "%d:%02d".formatted((int) t / 60, (int) t % 60), "text-anchor=\"middle\" fill=\"#555\"");
    }
  }

  /** A polyline per run of known values: a gap where a version had no traffic, or the canary did not exist. */
  private void line(int y, double max, List<double[]> points, String colour, String style) {
    List<String> run = new ArrayList<>();
    for (double[] p : points) {
      if (Double.isNaN(p[1]) || Double.isInfinite(p[1])) {
        flush(run, colour, style);
        continue;
      }
      double py = y + PANEL - PANEL * Math.min(1, p[1] / (max <= 0 ? 1 : max));
      run.add(String.format(Locale.ROOT, "%.1f,%.1f", x(p[0]), py));
    }
    flush(run, colour, style);
  }

  private void flush(List<String> run, String colour, String style) {
    if (run.size() == 1) {
      String[] xy = run.get(0).split(",");
      svg.append("<circle cx=\"").append(xy[0]).append("\" cy=\"").append(xy[1]).append("\" r=\"2\" fill=\"")
          .append(colour).append("\"/>\n");
    } else if (run.size() > 1) {
      svg.append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"").append(colour).append("\" ").append(style)
          .append(" points=\"").append(String.join(" ", run)).append("\"/>\n");
    }
    run.clear();
  }

  private void markLines(int y, boolean labelled) {
    int row = 0;
    for (Mark mark : marks) {
      if (mark.t() < tMin) {
        continue;
      }
      double px = x(mark.t());
      String colour = switch (mark.kind()) {
        case "RolledBack", "Aborted" -> "#d62728";
        case "Promoted" -> "#2ca02c";
        default -> "#777";
      };
      svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" "
          + "stroke-dasharray=\"3 3\"/>%n", px, y, px, y + PANEL, colour));
      if (labelled) {
        // Near the right edge the label goes to the left of its line, clear of the legend.
        boolean left = px > WIDTH - RIGHT - 90;
        text(left ? px - 3 : px + 3, y + 12 + 12 * (row++ % 4), escape(mark.label()),
            "fill=\"" + colour + "\"" + (left ? " text-anchor=\"end\"" : ""));
      }
    }
  }

  private void legend() {
    int y = TOP + PANEL + GAP;
    for (int i = 0; i < versions.size(); i++) {
      int ly = y + 14 + 18 * i;
      svg.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
          + "stroke-width=\"3\"/>%n", WIDTH - RIGHT + 8, ly - 4, WIDTH - RIGHT + 28, ly - 4, colour(i)));
      text(WIDTH - RIGHT + 34, ly, escape(versions.get(i)), "");
    }
  }

  private double x(double t) {
    return LEFT + (WIDTH - RIGHT - LEFT) * Math.max(0, Math.min(1, (t - tMin) / (tMax - tMin)));
  }

  private void text(double x, double y, String content, String attributes) {
    svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" %s>%s</text>%n", x, y, attributes, content));
  }

  private static String colour(int i) {
    return COLOURS[i % COLOURS.length];
  }

  static double niceCeiling(double max) {
    if (max <= 0) {
      return 1;
    }
    double magnitude = Math.pow(10, Math.floor(Math.log10(max)));
    for (double step : new double[] {1, 2, 2.5, 5, 10}) {
      if (step * magnitude >= max) {
        return step * magnitude;
      }
    }
    return 10 * magnitude;
  }

  private static String format(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.2f", v);
  }

  static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

  /** A page holding the picture, the summary and the timeline: one file, nothing fetched. */
  static String html(String title, String svg, List<String> header, List<List<String>> rows, List<String> timeline) {
    StringBuilder page = new StringBuilder("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>")
        .append(escape(title)).append("</title>\n<style>body{font-family:sans-serif;margin:2em;}table{border-collapse:"
            + "collapse;margin:1em 0;}td,th{border:1px solid #ccc;padding:4px 10px;text-align:left;}pre{background:"
            + "#f6f6f6;padding:1em;}</style></head><body>\n<h1>").append(escape(title)).append("</h1>\n")
        .append(svg).append("<h2>Summary</h2>\n<table><tr>");
    header.forEach(h -> page.append("<th>").append(escape(h)).append("</th>"));
    page.append("</tr>\n");
    for (List<String> row : rows) {
      page.append("<tr>");
      row.forEach(cell -> page.append("<td>").append(escape(cell)).append("</td>"));
      page.append("</tr>\n");
    }
    page.append("</table>\n<h2>Timeline</h2>\n<pre>");
    timeline.forEach(line -> page.append(escape(line)).append('\n'));
    return page.append("</pre>\n</body></html>\n").toString();
  }
}
