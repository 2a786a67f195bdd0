package dev.squeeze.compress.sweep;

import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Grid parsing, every way it can be wrong, the trials it makes, and what names a sweep. */
class SweepGridTest {
    private static final TrainParams BASE = TrainParams.of("mlp-tiny", "fashion-mnist", 2, 60, 1e-3, 11, 3, 0.1, 0.8);

    @Test
    void parsesKeysInOrderWithCanonicalNumbers() {
        SweepGrid grid = SweepGrid.parse(" lr = 1e-3, 3e-3 ,1E-2; batch=32,128 ;");
        assertEquals(List.of("lr", "batch"), grid.keys());
        assertEquals(Map.of("lr", List.of("0.001", "0.003", "0.01"), "batch", List.of("32", "128")), grid.values());
        assertEquals(6, grid.size());
        assertEquals("lr=0.001,0.003,0.01;batch=32,128", grid.toString());
        assertTrue(grid.sweeps("lr") && grid.sweeps("batch") && !grid.sweeps("model") && !grid.sweeps("nonsense"));
    }

    @Test
    void everyTrainSettingCanBeSwept() {
        SweepGrid grid = SweepGrid.parse("lr=0.01;batch=16;epochs=4;seed=7;patience=2;lr-decay=1;model=lenet-300-100;init=xavier");
        TrainParams params = grid.trials(BASE).get(0).params();
        assertEquals(TrainParams.of("lenet-300-100", "fashion-mnist", 4, 16, 0.01, 7, 2, 0.1, 1.0, "xavier", null, null, null,
                TrainParams.DEFAULT_TOLERANCE, TrainParams.DEFAULT_REFIT,
                TrainParams.DEFAULT_EXAMPLE_DECAY), params);
        assertEquals(List.of("model", "epochs", "batch", "lr", "seed", "patience", "val-fraction", "lr-decay", "init",
                "tolerance", "refit", "example-decay"), SweepGrid.KEYS, "every setting but the dataset's, in TrainParams' order");
    }

    @Test
    void malformedGridsAreOneLineErrorsNamingTheProblemAndTheValidKeys() {
        Map<String, String> problems = Map.ofEntries(
                Map.entry("", "the grid is empty"),
                Map.entry(" ; ", "the grid is empty"),
                Map.entry("lr", "'lr' is not key=v1,v2"),
                Map.entry("=1,2", "no key before '='"),
                Map.entry("lrate=1e-3", "unknown key 'lrate'"),
                Map.entry("lr=1e-3;lr=3e-3", "key 'lr' is given twice"),
                Map.entry("lr=", "key 'lr' has no values"),
                Map.entry("lr=1e-3,,3e-3", "key 'lr' has an empty value"),
                Map.entry("lr=1e-3,", "key 'lr' has an empty value"),
                Map.entry("lr=1e-3,0.001", "key 'lr' lists 0.001 twice"),
                Map.entry("batch=3x", "value batch=3x must be an integer >= 1, got '3x'"),
                Map.entry("batch=32.5", "value batch=32.5 must be an integer >= 1, got '32.5'"),
                Map.entry("lr=fast", "value lr=fast must be a number > 0, got 'fast'"),
                Map.entry("lr=-1", "value lr=-1 must be a number > 0, got '-1'"),
                Map.entry("batch=0", "value batch=0 must be an integer >= 1, got '0'"),
                Map.entry("lr-decay=2", "value lr-decay=2 must be a number > 0 and <= 1, got '2'"),
                Map.entry("model=resnet-9000", "value model=resnet-9000 must be a zoo model (mlp-tiny"),
                Map.entry("init=bogus", "value init=bogus must be a weight init"),
                Map.entry("refit=sometimes", "value refit=sometimes must be one of auto, always, never"));
        problems.forEach((text, problem) -> {
            BadInputException e = assertThrows(BadInputException.class, () -> SweepGrid.parse(text), text);
            assertTrue(e.getMessage().startsWith("bad --grid: "), e.getMessage());
            assertTrue(e.getMessage().contains(problem), text + " -> " + e.getMessage());
            assertTrue(e.getMessage().contains("valid keys: " + String.join(", ", SweepGrid.KEYS)),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        });
        assertThrows(BadInputException.class, () -> SweepGrid.parse(null));
    }

    @Test
    void trialsAreTheCartesianProductFirstKeyOutermost() {
        List<SweepTrial> trials = SweepGrid.parse("lr=1e-3,3e-2;batch=32,128").trials(BASE);
        assertEquals(List.of("lr=0.001 batch=32", "lr=0.001 batch=128", "lr=0.03 batch=32", "lr=0.03 batch=128"),
                trials.stream().map(SweepTrial::label).toList());
        assertEquals(List.of(1, 2, 3, 4), trials.stream().map(SweepTrial::number).toList());
        assertEquals("trial 3/4", trials.get(2).name());
        assertEquals(0.03, trials.get(3).params().learningRate());
        assertEquals(128, trials.get(3).params().batch());
        assertEquals(2, trials.get(3).params().epochs(), "unswept settings come from the base");
        assertEquals(11, trials.get(3).params().seed());
        assertEquals(trials, SweepGrid.parse("lr=1e-3,3e-2;batch=32,128").trials(BASE), "deterministic");
    }

    @Test
    void samplesAreDistinctSeededAndInGridOrder() {
        SweepGrid grid = SweepGrid.parse("lr=1e-4,3e-4,1e-3,3e-3,1e-2;batch=16,32,64,128,256;seed=1,2,3,4");
        List<SweepTrial> all = grid.trials(BASE);
        List<SweepTrial> sample = grid.sample(BASE, 10, 42);
        assertEquals(10, sample.size());
        assertEquals(10, sample.stream().map(SweepTrial::settings).distinct().count(), "distinct");
        assertTrue(all.stream().map(SweepTrial::settings).toList().containsAll(
                sample.stream().map(SweepTrial::settings).toList()));
        List<Integer> positions = sample.stream().map(t -> indexOf(all, t)).toList();
        assertEquals(positions.stream().sorted().toList(), positions, "in grid order");
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), sample.stream().map(SweepTrial::number).toList());
        assertEquals(10, sample.get(0).count());

        assertEquals(sample, grid.sample(BASE, 10, 42), "same seed, same sample");
        assertNotEquals(settings(sample), settings(grid.sample(BASE, 10, 43)), "another seed, another sample");
        SweepGrid reordered = SweepGrid.parse("seed=4,3,2,1;batch=256,128,64,32,16;lr=1e-2,3e-3,1e-3,3e-4,1e-4");
        assertEquals(settings(sample), settings(reordered.sample(BASE, 10, 42)),
                "the same grid written in another order samples the same combinations");

        assertEquals(all, grid.sample(BASE, 100, 42), "n = size: the whole grid");
        assertEquals(all, grid.sample(BASE, 1000, 42), "n > size: the whole grid");
        assertThrows(BadInputException.class, () -> grid.sample(BASE, 0, 42));
    }

    @Test
    void aHugeGridMustBeSampled() {
        String ten = "1,2,3,4,5,6,7,8,9,10";
        SweepGrid grid = SweepGrid.parse("seed=" + ten + ",11;epochs=" + ten + ";patience=" + ten + ";batch=" + ten);
        assertEquals(11_000, grid.size());
        BadInputException e = assertThrows(BadInputException.class, () -> grid.trials(BASE));
        assertTrue(e.getMessage().contains("11,000 combinations") && e.getMessage().contains("--random"), e.getMessage());
        assertEquals(5, grid.sample(BASE, 5, 1).size());
    }

    @Test
    void theSweepIdDependsOnlyOnWhatDecidesTheTrials() {
        SweepGrid grid = SweepGrid.parse("lr=1e-3,3e-2;batch=32,128");
        String id = new SweepParams(BASE, grid, null, 1).sweepId();
        assertTrue(id.matches("sw-[0-9a-f]{12}"), id);
        assertEquals(id, new SweepParams(BASE, grid, null, 4).sweepId(), "parallelism changes no result");
        assertEquals(id, new SweepParams(BASE, SweepGrid.parse("batch=128,32;lr=0.03,0.001"), null, 1).sweepId(),
                "the same grid written another way");
        assertEquals(id, new SweepParams(BASE.withLearningRate(0.5), grid, null, 1).sweepId(),
                "a base value the grid overrides");
        assertEquals(id, new SweepParams(BASE, grid, 4, 1).sweepId(), "a sample of the whole grid is the grid");
        assertNotEquals(id, new SweepParams(BASE, grid, 2, 1).sweepId(), "a smaller sample");
        assertNotEquals(id, new SweepParams(BASE.withInit("xavier"), grid, null, 1).sweepId(), "another base setting");
        assertNotEquals(id, new SweepParams(BASE, SweepGrid.parse("lr=1e-3,3e-2;batch=32"), null, 1).sweepId());
        assertTrue(new SweepParams(BASE, grid, 4, 1).randomCoversGrid());
        assertFalse(new SweepParams(BASE, grid, 3, 1).randomCoversGrid());
        assertFalse(new SweepParams(BASE, grid, null, 1).randomCoversGrid());
    }

    @Test
    void unsweptResetsOnlyTheSweptSettings() {
        TrainParams unswept = SweepGrid.parse("lr=0.1;model=lenet-5").unswept(BASE.withLearningRate(0.5));
        assertEquals(TrainParams.DEFAULT_LEARNING_RATE, unswept.learningRate());
        assertNull(unswept.model());
        assertEquals(BASE.epochs(), unswept.epochs());
    }

    @Test
    void sweepParamsCheckTheirInput() {
        SweepGrid grid = SweepGrid.parse("lr=1e-3,3e-2");
        TrainParams noModel = BASE.withModel(null);
        BadInputException model = assertThrows(BadInputException.class, () -> new SweepParams(noModel, grid, null, 1));
        assertTrue(model.getMessage().contains("--model is required unless the grid sweeps model"), model.getMessage());
        assertEquals(2, new SweepParams(noModel, SweepGrid.parse("model=mlp-tiny,lenet-300-100"), null, 1).trials().size());
        assertTrue(assertThrows(BadInputException.class, () -> new SweepParams(BASE, grid, 0, 1)).getMessage()
                .contains("--random must be at least 1"));
        assertTrue(assertThrows(BadInputException.class, () -> new SweepParams(BASE, grid, null, 0)).getMessage()
                .contains("--parallel must be at least 1"));
    }

    private static int indexOf(List<SweepTrial> all, SweepTrial trial) {
        for (int i = 0; i < all.size(); i++) if (all.get(i).settings().equals(trial.settings())) return i;
        return -1;
    }

    private static Set<Map<String, String>> settings(List<SweepTrial> trials) {
        return trials.stream().map(SweepTrial::settings).collect(Collectors.toCollection(HashSet::new));
    }
}
