package dev.squeeze.compress.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.squeeze.compress.sweep.SensitivityTable.Effect;
import dev.squeeze.compress.sweep.SensitivityTable.Level;
import dev.squeeze.compress.train.TrainParams;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sensitivity table on hand-made outcomes whose spreads are known. */
class SensitivityTableTest {

    /** Written in an order the ranking must change; {@code init} has a single value. */
    private static final Map<String, List<String>> GRID = grid(
            "epochs", List.of("2", "3"), "batch", List.of("32", "128"), "lr", List.of("0.001", "0.01"), "init", List.of("he"));

    /** Validation accuracy 0.80, minus 10 points at lr 0.01, minus 1 point at batch 128, plus 0.2 at 3 epochs. */
    private static double accuracy(String epochs, String batch, String lr) {
        return 0.80 - (lr.equals("0.01") ? 0.10 : 0) - (batch.equals("128") ? 0.01 : 0) + (epochs.equals("3") ? 0.002 : 0);
    }

    private static List<TrialOutcome> outcomes() {
        List<TrialOutcome> outcomes = new ArrayList<>();
        for (String epochs : GRID.get("epochs")) {
            for (String batch : GRID.get("batch")) {
                for (String lr : GRID.get("lr")) {
                    SweepTrial trial = new SweepTrial(outcomes.size() + 1, 8,
                            grid1(epochs, batch, lr), TrainParams.of("mlp-tiny"));
                    outcomes.add(TrialOutcome.done(trial, "run" + outcomes.size(), accuracy(epochs, batch, lr), false));
                }
            }
        }
        return outcomes;
    }

    @Test
    void ranksSettingsBySpreadAndLabelsTheirEffect() {
        SensitivityTable table = SensitivityTable.of(GRID, outcomes());
        assertEquals(List.of("lr", "batch", "epochs", "init"), table.rows().stream().map(SensitivityTable.Row::key).toList());
        assertEquals(0.10, table.rows().get(0).spread(), 1e-12);
        assertEquals(0.01, table.rows().get(1).spread(), 1e-12);
        assertEquals(0.002, table.rows().get(2).spread(), 1e-12);
        assertNull(table.rows().get(3).spread());
        assertEquals(List.of(Effect.HIGH, Effect.MEDIUM, Effect.LOW, Effect.UNMEASURED),
                table.rows().stream().map(SensitivityTable.Row::effect).toList());

        Level slow = table.rows().get(0).levels().get(0);
        assertEquals("0.001", slow.value());
        assertEquals(4, slow.trials());
        assertEquals(0, slow.failed());
        assertEquals((0.80 + 0.79 + 0.802 + 0.792) / 4, slow.meanValAcc(), 1e-12);

        assertEquals("run4", table.best().runId(), "epochs 3, batch 32, lr 0.001");
        assertEquals(0.802, table.best().valAcc(), 1e-12);
        assertEquals(List.of("init had one value (he): its effect is not measured"), table.notes());
        assertEquals(8, table.trials());
        assertEquals(0, table.failed());
    }

    @Test
    void formatsATableWithOneLinePerValue() {
        String text = SensitivityTable.of(GRID, outcomes()).format();
        List<String> lines = text.lines().toList();
        assertEquals("RANK  SETTING     SPREAD  EFFECT  VALUE  MEAN VAL  TRIALS", lines.get(0));
        assertEquals("   1  lr       10.00 pts  High    0.001    79.60%  4", lines.get(1));
        assertEquals("                                  0.01     69.60%  4", lines.get(2));
        assertEquals("   2  batch     1.00 pts  Medium  32       75.10%  4", lines.get(3));
        assertTrue(lines.get(5).startsWith("   3  epochs    0.20 pts  Low     2"), lines.get(5));
        assertEquals("   4  init             -  -       he       74.60%  8", lines.get(7), "one value: no spread");
        assertTrue(text.contains("\nbest    run run4  val 80.20%  epochs=3 batch=32 lr=0.001 init=he\n"), text);
        assertTrue(text.contains("\nnote    init had one value (he): its effect is not measured\n"), text);
        assertTrue(text.contains("High >= 2 points, Medium >= 0.5, Low below"), text);
    }

    @Test
    void failedTrialsAreCountedPerValueAndLeftOutOfTheMeans() {
        List<TrialOutcome> outcomes = new ArrayList<>(outcomes());
        // Every trial at lr 0.01 and batch 128 failed (diverged).
        outcomes.replaceAll(o -> o.trial().settings().get("lr").equals("0.01") && o.trial().settings().get("batch").equals("128")
                ? TrialOutcome.failed(o.trial(), o.runId(), "loss became NaN") : o);
        SensitivityTable table = SensitivityTable.of(GRID, outcomes);
        assertEquals(2, table.failed());
        SensitivityTable.Row lr = table.rows().get(0);
        assertEquals("lr", lr.key());
        Level fast = lr.levels().get(1);
        assertEquals(2, fast.trials());
        assertEquals(2, fast.failed());
        assertEquals((0.70 + 0.702) / 2, fast.meanValAcc(), 1e-12);
        assertTrue(table.format().contains("0.01     70.10%  2 + 2 failed"), table.format());

        // Nothing at lr 0.01 finished: lr cannot be measured.
        outcomes.replaceAll(o -> o.trial().settings().get("lr").equals("0.01") ? TrialOutcome.failed(o.trial(), null, "x") : o);
        SensitivityTable none = SensitivityTable.of(GRID, outcomes);
        SensitivityTable.Row unmeasured = none.rows().stream().filter(r -> r.key().equals("lr")).findFirst().orElseThrow();
        assertNull(unmeasured.spread());
        assertNull(unmeasured.levels().get(1).meanValAcc());
        assertEquals(Effect.UNMEASURED, unmeasured.effect());
        assertTrue(none.notes().contains("lr: fewer than two of its values have a finished trial, so its effect is not measured"));
        assertTrue(none.format().contains("0.01          -  0 + 4 failed"), none.format());
    }

    @Test
    void noFinishedTrialMeansNoBest() {
        List<TrialOutcome> failed = outcomes().stream().map(o -> TrialOutcome.failed(o.trial(), null, "x")).toList();
        SensitivityTable table = SensitivityTable.of(GRID, failed);
        assertNull(table.best());
        assertTrue(table.format().contains("best    no trial finished"), table.format());
    }

    @Test
    void effectThresholdsInAccuracyPoints() {
        assertEquals(Effect.HIGH, Effect.of(0.90 - 0.88), "2 points, despite binary rounding");
        assertEquals(Effect.HIGH, Effect.of(0.2));
        assertEquals(Effect.MEDIUM, Effect.of(0.0199));
        assertEquals(Effect.MEDIUM, Effect.of(0.005));
        assertEquals(Effect.LOW, Effect.of(0.0049));
        assertEquals(Effect.LOW, Effect.of(0.0));
        assertEquals(Effect.UNMEASURED, Effect.of(null));
    }

    @Test
    void jsonKeepsFractionsAndTheRanking() throws Exception {
        JsonNode json = new ObjectMapper().readTree(SensitivityTable.of(GRID, outcomes()).json());
        assertEquals("lr", json.get("settings").get(0).get("key").asText());
        assertEquals(1, json.get("settings").get(0).get("rank").asInt());
        assertEquals("high", json.get("settings").get(0).get("effect").asText());
        assertEquals(0.10, json.get("settings").get(0).get("spread").asDouble(), 1e-12);
        assertEquals(4, json.get("settings").get(0).get("values").get(0).get("trials").asInt());
        assertTrue(json.get("settings").get(3).get("spread").isNull());
        assertEquals("run4", json.get("best").get("run_id").asText());
        assertEquals("3", json.get("best").get("settings").get("epochs").asText());
        assertEquals(1, json.get("notes").size());
    }

    private static Map<String, String> grid1(String epochs, String batch, String lr) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("epochs", epochs);
        settings.put("batch", batch);
        settings.put("lr", lr);
        settings.put("init", "he");
        return settings;
    }

    private static Map<String, List<String>> grid(Object... keysAndValues) {
        Map<String, List<String>> grid = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            @SuppressWarnings("unchecked")
            List<String> values = (List<String>) keysAndValues[i + 1];
            grid.put((String) keysAndValues[i], values);
        }
        return grid;
    }
}
