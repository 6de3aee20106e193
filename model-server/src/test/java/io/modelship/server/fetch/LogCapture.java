package io.modelship.server.fetch;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.LoggerFactory;

/**
 * Every log event of the JVM while open, at every level, so tests can assert on what a fetch said and, above all,
 * on what it never says (secrets). Debug included: a secret logged at debug is still a leak.
 */
final class LogCapture implements AutoCloseable {

  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
  private final Level previous;

  LogCapture() {
    appender.start();
    previous = root.getLevel();
    root.setLevel(Level.DEBUG);
    root.addAppender(appender);
  }

  /** Formatted messages and any throwables (class and message, causes included), one event per line. */
  String text() {
    List<ILoggingEvent> events = List.copyOf(appender.list);
    return events.stream().map(LogCapture::render).collect(Collectors.joining("\n"));
  }

  private static String render(ILoggingEvent event) {
    StringBuilder line = new StringBuilder(event.getLevel() + " " + event.getLoggerName() + " " + event.getFormattedMessage());
    for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
      line.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
    }
    return line.toString();
  }

  @Override
  public void close() {
    root.detachAppender(appender);
    root.setLevel(previous);
  }
}
