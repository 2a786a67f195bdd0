package dev.squeeze.compress.ledger;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigHashTest {

    enum Optimizer { SGD, ADAM }

    /** A training recipe; {@code model} has no sensible default, so it is null there and hashed whenever set. */
    record TrainConfig(String model, String dataset, double learningRate, int epochs, int batchSize, long seed,
                       Optimizer optimizer, int[] hidden) {
    }

    /** The same recipe a release later, with one more setting whose default keeps the old behaviour. */
    record TrainConfigV2(String model, String dataset, double learningRate, int epochs, int batchSize, long seed,
                         Optimizer optimizer, int[] hidden, double weightDecay) {
        static TrainConfigV2 of(TrainConfig c, double weightDecay) {
            return new TrainConfigV2(c.model(), c.dataset(), c.learningRate(), c.epochs(), c.batchSize(), c.seed(),
                    c.optimizer(), c.hidden(), weightDecay);
        }
    }

    static final TrainConfig DEFAULTS = new TrainConfig(null, "fashion-mnist", 1e-3, 10, 60, 0L, Optimizer.ADAM,
            new int[]{300, 100});
    static final TrainConfigV2 DEFAULTS_V2 = TrainConfigV2.of(DEFAULTS, 0.0);

    static final TrainConfig LENET = new TrainConfig("lenet-300-100", "fashion-mnist", 0.001, 10, 60, 0L,
            Optimizer.ADAM, new int[]{300, 100});
    static final TrainConfig TINY_SGD = new TrainConfig("mlp-tiny", "fashion-mnist", 0.01, 2, 60, 0L,
            Optimizer.SGD, new int[]{300, 100});
    static final TrainConfig SMALL_MNIST = new TrainConfig("lenet-300-100", "mnist", 1e-3, 10, 60, 7L,
            Optimizer.ADAM, new int[]{100, 30});

    // The literals were computed once (and cross-checked with Python's json.dumps(sort_keys=True) + hashlib).
    // If one changes, every existing run folder and ledger hash would be orphaned: do not "fix" the literal.
    @Test
    void pinnedHashes() {
        assertEquals("ad87d3baea3e", ConfigHash.of(LENET, DEFAULTS).value());
        assertEquals("427ececce59b", ConfigHash.of(TINY_SGD, DEFAULTS).value());
        assertEquals("60c7d3fd33ec", ConfigHash.of(SMALL_MNIST, DEFAULTS).value());
        assertEquals("44136fa355b3", ConfigHash.of(DEFAULTS, DEFAULTS).value(), "all defaults hash the text {}");
    }

    @Test
    void hashedTextHoldsOnlyNonDefaultSettingsSortedByName() {
        assertEquals("{\"model\":\"lenet-300-100\"}", ConfigHash.of(LENET, DEFAULTS).hashedJson());
        assertEquals("{\"epochs\":2,\"learningRate\":0.01,\"model\":\"mlp-tiny\",\"optimizer\":\"SGD\"}",
                ConfigHash.of(TINY_SGD, DEFAULTS).hashedJson());
        assertEquals("{\"dataset\":\"mnist\",\"hidden\":[100,30],\"model\":\"lenet-300-100\",\"seed\":7}",
                ConfigHash.of(SMALL_MNIST, DEFAULTS).hashedJson());
    }

    @Test
    void configJsonHoldsEverySetting() {
        assertEquals("{\"batchSize\":60,\"dataset\":\"fashion-mnist\",\"epochs\":2,\"hidden\":[300,100],"
                        + "\"learningRate\":0.01,\"model\":\"mlp-tiny\",\"optimizer\":\"SGD\",\"seed\":0}",
                ConfigHash.of(TINY_SGD, DEFAULTS).configJson());
    }

    @Test
    void equalConfigsHashEqual() {
        // Fresh arrays: record equals() would call these different; the hash must not.
        TrainConfig again = new TrainConfig("mlp-tiny", "fashion-mnist", 1e-2, 2, 60, 0L, Optimizer.SGD,
                new int[]{300, 100});
        assertEquals(ConfigHash.of(TINY_SGD, DEFAULTS), ConfigHash.of(again, DEFAULTS));
    }

    @Test
    void oneChangedSettingChangesTheHash() {
        List<TrainConfig> variants = List.of(LENET,
                new TrainConfig("mlp-tiny", "fashion-mnist", 1e-3, 10, 60, 0L, Optimizer.ADAM, new int[]{300, 100}),
                new TrainConfig("lenet-300-100", "mnist", 1e-3, 10, 60, 0L, Optimizer.ADAM, new int[]{300, 100}),
                new TrainConfig("lenet-300-100", "fashion-mnist", 1.2e-3, 10, 60, 0L, Optimizer.ADAM, new int[]{300, 100}),
                new TrainConfig("lenet-300-100", "fashion-mnist", 1e-3, 11, 60, 0L, Optimizer.ADAM, new int[]{300, 100}),
                new TrainConfig("lenet-300-100", "fashion-mnist", 1e-3, 10, 64, 0L, Optimizer.ADAM, new int[]{300, 100}),
                new TrainConfig("lenet-300-100", "fashion-mnist", 1e-3, 10, 60, 1L, Optimizer.ADAM, new int[]{300, 100}),
                new TrainConfig("lenet-300-100", "fashion-mnist", 1e-3, 10, 60, 0L, Optimizer.SGD, new int[]{300, 100}),
                new TrainConfig("lenet-300-100", "fashion-mnist", 1e-3, 10, 60, 0L, Optimizer.ADAM, new int[]{100, 300}),
                new TrainConfig("lenet-300-100", "fashion-mnist", 1e-3, 10, 60, 0L, Optimizer.ADAM, new int[]{300}));
        Set<String> hashes = new HashSet<>();
        for (TrainConfig variant : variants) hashes.add(ConfigHash.of(variant, DEFAULTS).value());
        assertEquals(variants.size(), hashes.size(), "every variant hashes differently: " + hashes);
    }

    @Test
    void addingADefaultedSettingKeepsOldHashes() {
        for (TrainConfig config : List.of(DEFAULTS, LENET, TINY_SGD, SMALL_MNIST)) {
            assertEquals(ConfigHash.of(config, DEFAULTS).value(),
                    ConfigHash.of(TrainConfigV2.of(config, 0.0), DEFAULTS_V2).value());
        }
        assertNotEquals(ConfigHash.of(LENET, DEFAULTS).value(),
                ConfigHash.of(TrainConfigV2.of(LENET, 1e-4), DEFAULTS_V2).value());
    }

    @Test
    void identifyingSettingWithNullDefaultIsHashedOnlyWhenSet() {
        TrainConfig unnamed = new TrainConfig(null, "fashion-mnist", 1e-3, 10, 60, 0L, Optimizer.ADAM, new int[]{300, 100});
        assertEquals("{}", ConfigHash.of(unnamed, DEFAULTS).hashedJson());
        TrainConfig named = new TrainConfig("x", "fashion-mnist", 1e-3, 10, 60, 0L, Optimizer.ADAM, new int[]{300, 100});
        assertEquals("{\"model\":\"x\"}", ConfigHash.of(named, DEFAULTS).hashedJson());
        // A setting set back to null where the default is not null is a difference too.
        TrainConfig noDataset = new TrainConfig("x", null, 1e-3, 10, 60, 0L, Optimizer.ADAM, new int[]{300, 100});
        assertEquals("{\"dataset\":null,\"model\":\"x\"}", ConfigHash.of(noDataset, DEFAULTS).hashedJson());
    }

    record Schedule(double start, double end, int warmup) {
    }

    record Recipe(String model, Schedule schedule) {
    }

    @Test
    void nestedRecordsAreComparedSettingBySetting() {
        Recipe defaults = new Recipe(null, new Schedule(0.1, 0.0, 0));
        Recipe recipe = new Recipe("m", new Schedule(0.1, 0.0, 5));
        assertEquals("{\"model\":\"m\",\"schedule\":{\"warmup\":5}}", ConfigHash.of(recipe, defaults).hashedJson());
        assertEquals("{\"model\":\"m\"}", ConfigHash.of(new Recipe("m", new Schedule(0.1, 0, 0)), defaults).hashedJson());
        assertEquals("{\"model\":\"m\",\"schedule\":{\"end\":0,\"start\":0.1,\"warmup\":5}}",
                ConfigHash.of(recipe, defaults).configJson());
    }

    @Test
    void defaultsOfAnotherTypeAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfigHash.of((Record) LENET, (Record) DEFAULTS_V2));
        assertTrue(e.getMessage().contains("TrainConfig"), e.getMessage());
    }

    record Opaque(Object thing) {
    }

    @Test
    void valuesWithoutACanonicalFormAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfigHash.of(new Opaque(new Object()), new Opaque(null)));
        assertTrue(e.getMessage().contains("java.lang.Object"), e.getMessage());
    }

    @Test
    void malformedHashValuesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ConfigHash("ABC", "{}", "{}"));
    }
}
