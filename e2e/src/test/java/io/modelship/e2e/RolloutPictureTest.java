package io.modelship.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.modelship.e2e.RolloutWatch.Mark;
import io.modelship.e2e.RolloutWatch.Rates;
import io.modelship.e2e.RolloutWatch.Sample;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

/** The demo's picture on made-up samples: no cluster needed. */
class RolloutPictureTest {
  @Test
  void drawsALinePerVersionAndPanelWithGapsWhereAVersionHadNoTrafficAndMarksTheEndings() throws Exception {
    List<Sample> samples = new ArrayList<>();
    for (int t = 0; t < 60; t++) {
      Map<String, Rates> rates = t < 20 ? Map.of("v1", new Rates(20, 0, 4.2))
          : t < 40 ? Map.of("v1", new Rates(10, 0, 4.0), "v2", new Rates(10, 0, 5.1))
          // v3 failed every request: its p99 is unknown (NaN), which must leave a gap, not break the picture.
          : t < 45 ? Map.of("v2", new Rates(15, 0, 4.0), "v3", new Rates(5, 1, Double.NaN))
          : Map.of("v2", new Rates(20, 0, 4.0));
      samples.add(new Sample(t, t >= 20 && t < 40 ? "v2" : null, t >= 20 && t < 40 ? 50 : null,
          t >= 20 && t < 40 ? 33 : null, rates));
    }
    List<Mark> marks = List.of(new Mark(20, "step", "10 %"), new Mark(40, "Promoted", "v2 Promoted"),
        new Mark(45, "RolledBack", "v3 RolledBack <5xx & co>"));

    String svg = RolloutPicture.svg("a <rollout>", samples, marks, List.of("v1", "v2", "v3"));

    Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
        .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    assertThat(doc.getDocumentElement().getTagName()).isEqualTo("svg");
    // Weight: asked and observed. Then rate, 5xx and p99 for v1 and v2 each, and rate and 5xx for v3 (5 samples).
    assertThat(doc.getElementsByTagName("polyline").getLength()).isEqualTo(2 + 3 * 2 + 2);
    assertThat(svg).contains("v2 Promoted", "v3 RolledBack &lt;5xx &amp; co&gt;", "a &lt;rollout&gt;")
        .doesNotContain("NaN", "Infinity");
  }

  @Test
  void scalesRoundUpToANiceNumber() {
    assertThat(RolloutPicture.niceCeiling(0)).isEqualTo(1);
    assertThat(RolloutPicture.niceCeiling(17)).isEqualTo(20);
    assertThat(RolloutPicture.niceCeiling(4.2)).isEqualTo(5);
    assertThat(RolloutPicture.niceCeiling(230)).isEqualTo(250);
  }

  @Test
  void theSummaryIsAMarkdownTableWithTheHeaderAndARowPerVersion() {
    String table = DemoStory.markdown(List.of(List.of("v1", "abc", "first stable", "-", "100", "0", "0")));
    assertThat(table.lines().toList()).hasSize(3);
    assertThat(table).startsWith("| version | revision | outcome |").contains("| v1 | abc | first stable |");
  }
}
