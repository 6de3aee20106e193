package io.modelship.operator;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.status.Status;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/** The operator's own logging configuration (src/main/resources/logback.xml), as the pod runs it. */
class JsonLogTest {

  @Test
  void jsonLinesCarryTheFormattedMessageWithoutPatternOrArguments() throws Exception {
    var out = new ByteArrayOutputStream();
    LoggerContext context = configured("json", out);
    try {
      Logger log = context.getLogger("io.modelship.operator.resources.Applier");
      log.info("scaling Deployment {}/{} from {} to {}", "ml", "sentiment-7f9c", 2, 3);

      String line = out.toString(StandardCharsets.UTF_8).strip();
      assertThat(line).doesNotContain("\n");
      JsonNode json = new ObjectMapper().readTree(line);
      assertThat(json.path("formattedMessage").asText())
          .isEqualTo("scaling Deployment ml/sentiment-7f9c from 2 to 3")
          .doesNotContain("{}");
      assertThat(json.has("message")).as("raw pattern in %s", line).isFalse();
      assertThat(json.has("arguments")).as("arguments array in %s", line).isFalse();
      assertThat(json.path("level").asText()).isEqualTo("INFO");
      assertThat(json.path("loggerName").asText()).isEqualTo("io.modelship.operator.resources.Applier");
    } finally {
      context.stop();
    }
  }

  @Test
  void textStaysOneLinePerMessageForPeople() throws Exception {
    var out = new ByteArrayOutputStream();
    LoggerContext context = configured("text", out);
    try {
      context.getLogger("io.modelship.operator.OperatorMain").info("health and metrics on :{}", 8081);
      assertThat(out.toString(StandardCharsets.UTF_8)).endsWith("- health and metrics on :8081\n");
    } finally {
      context.stop();
    }
  }

  /**
   * A fresh logback context configured from the shipped file with MODELSHIP_LOG_FORMAT={@code format}, its console
   * appender writing to {@code out}. Fails on any configuration error: the file silences logback's own status
   * messages, so a misspelt encoder option would otherwise be dropped without a word.
   */
  private static LoggerContext configured(String format, ByteArrayOutputStream out) throws Exception {
    URL file = Path.of("src/main/resources/logback.xml").toUri().toURL();
    var context = new LoggerContext();
    // What slf4j's provider does for the real context; without it every append fails.
    context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    context.putProperty("MODELSHIP_LOG_FORMAT", format);
    var configurator = new JoranConfigurator();
    configurator.setContext(context);
    configurator.doConfigure(file);
    assertThat(context.getStatusManager().getCopyOfStatusList())
        .filteredOn(s -> s.getEffectiveLevel() >= Status.WARN)
        // The appender of the other format is defined but unused: that is how the file picks one.
        .filteredOn(s -> !s.getMessage().endsWith("not referenced. Skipping further processing."))
        .as("logback configuration problems")
        .isEmpty();
    var root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    var appender = (OutputStreamAppender<ILoggingEvent>) root.getAppender(format);
    assertThat(appender).as("appender %s on the root logger", format).isNotNull();
    appender.setOutputStream(out);
    return context;
  }
}
