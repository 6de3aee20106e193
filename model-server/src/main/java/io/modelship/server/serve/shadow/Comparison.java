package io.modelship.server.serve.shadow;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelship.server.serve.model.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How one mirrored answer compares with the answer the caller got, on one output tensor: rows whose top-1 class
 * agrees (argmax over each row, for classifier-shaped outputs of more than one value per row; within the
 * tolerance, for one value per row), the mean absolute difference, and the largest relative difference.
 *
 * @param rows rows compared
 * @param agreeing rows that agree
 * @param meanAbsDiff mean of |primary - shadow| over every element
 * @param maxRelDiff largest |primary - shadow| / max(|primary|, 1e-12) over every element
 */
public record Comparison(long rows, long agreeing, double meanAbsDiff, double maxRelDiff) {

  /**
   * Compares the caller's output with the same output of a V2 JSON answer.
   *
   * @param output the output to compare; empty: the first output of the caller's answer
   * @return empty when the answers cannot be compared (missing output, other shape, non-numeric data)
   */
  public static Optional<Comparison> of(List<Tensor> primary, JsonNode shadowAnswer, Optional<String> output,
      double tolerance) {
    if (primary.isEmpty()) {
      return Optional.empty();
    }
    Tensor mine = output.flatMap(name -> primary.stream().filter(t -> t.name().equals(name)).findFirst())
        .orElse(output.isPresent() ? null : primary.get(0));
    if (mine == null || mine.shape().length == 0) {
      return Optional.empty();
    }
    JsonNode theirs = null;
    for (JsonNode o : shadowAnswer.path("outputs")) {
      if (mine.name().equals(o.path("name").asText())) {
        theirs = o;
      }
    }
    if (theirs == null) {
      return Optional.empty();
    }
    List<Double> flat = new ArrayList<>(mine.elementCount());
    if (!flatten(theirs.path("data"), flat) || flat.size() != mine.elementCount()) {
      return Optional.empty();
    }
    double[] b = flat.stream().mapToDouble(Double::doubleValue).toArray();
    double[] a = new double[mine.elementCount()];
    for (int i = 0; i < a.length; i++) {
      Object e = mine.element(i);
      if (!(e instanceof Number n)) {
        return Optional.empty();
      }
      a[i] = n.doubleValue();
    }
    long rows = mine.rows();
    int width = rows == 0 ? 0 : (int) (a.length / rows);
    long agreeing = 0;
    double absSum = 0;
    double maxRel = 0;
    for (int i = 0; i < a.length; i++) {
      double diff = Math.abs(a[i] - b[i]);
      absSum += diff;
      maxRel = Math.max(maxRel, diff / Math.max(Math.abs(a[i]), 1e-12));
    }
    for (int r = 0; r < rows; r++) {
      int from = r * width;
      if (width == 1) {
        double diff = Math.abs(a[from] - b[from]);
        agreeing += diff <= tolerance * Math.max(1.0, Math.abs(a[from])) ? 1 : 0;
      } else if (argmax(a, from, width) == argmax(b, from, width)) {
        agreeing++;
      }
    }
    return Optional.of(new Comparison(rows, agreeing, a.length == 0 ? 0 : absSum / a.length, maxRel));
  }

  private static int argmax(double[] v, int from, int width) {
    int best = from;
    for (int i = from + 1; i < from + width; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best - from;
  }

  /** V2 data is flat or nested row-major; numbers and booleans only. */
  private static boolean flatten(JsonNode node, List<Double> into) {
    if (node.isArray()) {
      for (JsonNode child : node) {
        if (!flatten(child, into)) {
          return false;
        }
      }
      return true;
    }
    if (node.isNumber()) {
      into.add(node.asDouble());
      return true;
    }
    if (node.isBoolean()) {
      into.add(node.asBoolean() ? 1.0 : 0.0);
      return true;
    }
    return false;
  }
}
