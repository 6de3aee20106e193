package io.modelship.server;

/** Entry point of the model server; the fetch and serve roles arrive with their own issue. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.out.println("usage: model-server (fetch|serve) [options]");
  }
}
