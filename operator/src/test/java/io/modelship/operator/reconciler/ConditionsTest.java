package io.modelship.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConditionsTest {
  private static final Clock T0 = Clock.fixed(Instant.parse("2026-11-24T10:00:00Z"), ZoneOffset.UTC);
  private static final Clock T1 = Clock.fixed(Instant.parse("2026-11-24T10:05:00Z"), ZoneOffset.UTC);

  @Test
  void aNewConditionStartsItsTransitionNow() {
    Condition ready = only(new Conditions(List.of(), 3, T0).set("Ready", "False", "Pending", "waiting").build());
    assertThat(ready.getLastTransitionTime()).isEqualTo("2026-11-24T10:00:00Z");
    assertThat(ready.getObservedGeneration()).isEqualTo(3L);
  }

  @Test
  void sameStatusKeepsTheTransitionTimeEvenWhenReasonAndMessageChange() {
    var before = new Conditions(List.of(), 1, T0).set("Ready", "False", "Pending", "0/2 ready").build();
    Condition after = only(new Conditions(before, 2, T1).set("Ready", "False", "FetchFailed", "not found").build());
    assertThat(after.getLastTransitionTime()).isEqualTo("2026-11-24T10:00:00Z");
    assertThat(after.getReason()).isEqualTo("FetchFailed");
    assertThat(after.getObservedGeneration()).isEqualTo(2L);
  }

  @Test
  void aFlippedStatusMovesTheTransitionTime() {
    var before = new Conditions(List.of(), 1, T0).set("Ready", "False", "Pending", "0/2 ready").build();
    Condition after = only(new Conditions(before, 1, T1).set("Ready", "True", "RevisionReady", "2/2 ready").build());
    assertThat(after.getLastTransitionTime()).isEqualTo("2026-11-24T10:05:00Z");
  }

  @Test
  void changedMeansNewStatusOrReasonNotJustANewMessage() {
    var before = new Conditions(List.of(), 1, T0).set("Ready", "False", "Pending", "0/2 ready").build();
    var sameReason = only(new Conditions(before, 1, T1).set("Ready", "False", "Pending", "1/2 ready").build());
    var newReason = only(new Conditions(before, 1, T1).set("Ready", "False", "FetchFailed", "x").build());
    assertThat(Conditions.changed(before, sameReason)).isFalse();
    assertThat(Conditions.changed(before, newReason)).isTrue();
  }

  private static Condition only(List<Condition> conditions) {
    assertThat(conditions).hasSize(1);
    return conditions.get(0);
  }
}
