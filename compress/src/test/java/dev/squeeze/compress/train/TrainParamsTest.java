package dev.squeeze.compress.train;

import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.settings.SettingSpec;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainParamsTest {

    /** The settings every default run used before issue 17 changed the defaults. */
    private static TrainParams oldDefaults(String model) {
        return TrainParams.of(model, "fashion-mnist", 30, 60, 1e-3, 42, 3, 0.1, 0.8, null, null, null, null, 0, Refit.NEVER, 1);
    }

    /** Run folders are named by these: changing them orphans every existing run, so they are pinned. */
    @Test
    void hashesArePinned() {
        assertEquals("ad87d3baea3e", ConfigHash.of(oldDefaults("lenet-300-100"), TrainParams.HASH_BASE).value());
        var tuned = TrainParams.of("lenet-5", "mnist", 10, 128, 3e-3, 7, 3, 0.1, 0.8, null, null, null, null, 0,
                Refit.NEVER, 1);
        ConfigHash hash = ConfigHash.of(tuned, TrainParams.HASH_BASE);
        assertEquals("{\"batch\":128,\"dataset\":\"mnist\",\"epochs\":10,\"learningRate\":0.003,\"model\":\"lenet-5\",\"seed\":7}",
                hash.hashedJson());
        assertEquals("3d01eee5b742", hash.value());
    }

    /**
     * A default run now trains differently from a default run before (issue 17), so it must not share its folder:
     * squeeze would reuse the old result, or resume an old run under the new schedule. Hashes are taken against the
     * old defaults, so the changed defaults are hashed.
     */
    @Test
    void changedDefaultsMoveDefaultRunsToANewHash() {
        ConfigHash now = ConfigHash.of(TrainParams.of("lenet-300-100"), TrainParams.HASH_BASE);
        assertEquals("{\"exampleDecay\":0.8,\"lrDecay\":0.95,\"model\":\"lenet-300-100\",\"refit\":\"AUTO\",\"tolerance\":2}", now.hashedJson());
        assertEquals("f9c3ac71e1b1", now.value());
        assertEquals("ad87d3baea3e", ConfigHash.of(TrainParams.of("lenet-300-100"),
                TrainParams.DEFAULTS).value(), "hashing against the current defaults would have collided");
    }

    /** A run folder's config.json from before issue 17 lacks the new settings: it reads back as what it ran. */
    @Test
    void anOldConfigurationReadsBackWithTheOldRule() throws Exception {
        String old = "{\"batch\":60,\"categorical\":null,\"dataset\":\"fashion-mnist\",\"epochs\":30,\"init\":null,"
                + "\"label\":null,\"learningRate\":0.001,\"lrDecay\":0.8,\"model\":\"lenet-300-100\",\"patience\":3,"
                + "\"seed\":42,\"snapshot\":null,\"validationFraction\":0.1}";
        TrainParams read = Json.read(old, TrainParams.class);
        assertEquals(oldDefaults("lenet-300-100"), read);
        assertEquals("ad87d3baea3e", ConfigHash.of(read, TrainParams.HASH_BASE).value());
    }

    @Test
    void theSameSettingsWrittenDifferentlyHashTheSame() {
        var a = TrainParams.of("mlp-tiny", "fashion-mnist", 30, 60, 0.001, 42, 3, 0.1, 0.8);
        var b = TrainParams.of("mlp-tiny", "fashion-mnist", 30, 60, 1e-3, 42, 3, 0.10, 0.80);
        assertEquals(ConfigHash.of(a, TrainParams.DEFAULTS), ConfigHash.of(b, TrainParams.DEFAULTS));
    }

    /**
     * Out-of-range settings are refused by the settings' own rules: naming the flag when they come from the command
     * line, the setting when a program built them (the stage runner checks before it hashes).
     */
    @Test
    void rejectsNonsenseNamingTheSettingAsItWasGiven() {
        assertEquals("epochs must be an integer >= 1, got 0", assertThrows(BadInputException.class,
                () -> TrainParams.SETTINGS.check(TrainParams.of("x", "d", 0, 1, 1e-3, 1, 1, 0.1, 0.8))).getMessage());
        for (TrainParams bad : List.of(TrainParams.of("x", "d", 1, 0, 1e-3, 1, 1, 0.1, 0.8),
                TrainParams.of("x", "d", 1, 1, -1, 1, 1, 0.1, 0.8),
                TrainParams.of("x", "d", 1, 1, Double.NaN, 1, 1, 0.1, 0.8),
                TrainParams.of("x", "d", 1, 1, 1e-3, 1, 0, 0.1, 0.8),
                TrainParams.of("x", "d", 1, 1, 1e-3, 1, 1, 1.0, 0.8),
                TrainParams.of("x", "d", 1, 1, 1e-3, 1, 1, 0.1, 1.5))) {
            assertThrows(BadInputException.class, () -> TrainParams.SETTINGS.check(bad), bad.toString());
        }
        for (double bad : new double[]{-0.5, Double.NaN, Double.POSITIVE_INFINITY}) {
            var e = assertThrows(BadInputException.class, () -> TrainParams.SETTINGS.check(TrainParams.of("x", "d", 1, 1,
                    1e-3, 1, 1, 0.1, 0.9, null, null, null, null, bad, Refit.AUTO, 1)));
            assertTrue(e.getMessage().startsWith("tolerance must be a number >= 0, got "), e.getMessage());
        }
        SettingSpec tolerance = TrainParams.SETTINGS.setting("tolerance").orElseThrow();
        assertEquals("--tolerance must be a number >= 0, got '-1'",
                assertThrows(BadInputException.class, () -> tolerance.parse("-1", tolerance.flag())).getMessage());
        assertEquals("train.tolerance must be a number >= 0, got 'lots'",
                assertThrows(BadInputException.class, () -> tolerance.parse("lots", "train.tolerance")).getMessage());
    }

    /**
     * The faster of the two decays: a large training split (many steps per epoch) decays by 0.8 per 54,000 examples,
     * as the defaults were tuned on Fashion-MNIST; a small one by --lr-decay per epoch, so it still anneals.
     */
    @Test
    void theLearningRateDecaysPerEpochOrPerExamplesSeenWhicheverIsFaster() {
        TrainParams p = TrainParams.of("lenet-300-100");
        assertEquals(0.8, p.decayPerEpoch(54_000), 1e-12);
        assertEquals(Math.pow(0.8, 0.9), p.decayPerEpoch(48_600), 1e-12);
        assertEquals(0.95, p.decayPerEpoch(1_800), 0, "0.8^(1,800/54,000) = 0.993 is slower than 0.95");
        assertEquals(1e-3 * Math.pow(0.8, 2), p.learningRateAt(3, 54_000), 1e-15);
        assertEquals(0.95, TrainParams.of("x", "d", 1, 1, 1e-3, 1, 1, 0.1, 0.95, null, null, null, null, 2, Refit.AUTO, 1)
                .decayPerEpoch(1_000_000), 0, "1 turns the per-examples decay off");
        var e = assertThrows(BadInputException.class, () -> TrainParams.SETTINGS.check(TrainParams.of("x", "d", 1, 1, 1e-3,
                1, 1, 0.1, 0.95, null, null, null, null, 2, Refit.AUTO, 1.5)));
        assertEquals("example-decay must be a number > 0 and <= 1, got 1.5", e.getMessage());
    }

    /** The schedule line names the decay that sets the pace, so an --lr-decay that is overridden does not go unseen. */
    @Test
    void theScheduleLineSaysWhenTheExampleDecayOverridesTheEpochDecay() {
        TrainParams p = TrainParams.of("lenet-300-100");
        assertEquals("learning rate 0.001, x0.800 per epoch (0.00013 by epoch 10): --example-decay 0.8 per 54000 "
                + "examples is faster than --lr-decay 0.95 on 54000 training examples; --example-decay 1 keeps "
                + "--lr-decay's pace", p.withEpochs(10).scheduleLine(54_000));
        assertEquals("learning rate 0.001, x0.950 per epoch (0.00063 by epoch 10)", p.withEpochs(10).scheduleLine(1_800));
    }

    @Test
    void learningRateDecaysPerEpoch() {
        var p = TrainParams.of("x", "d", 3, 1, 1e-2, 1, 1, 0.1, 0.5);
        assertEquals(1e-2, p.learningRateAt(1, 100), 0);
        assertEquals(2.5e-3, p.learningRateAt(3, 100), 1e-15);
    }
}
