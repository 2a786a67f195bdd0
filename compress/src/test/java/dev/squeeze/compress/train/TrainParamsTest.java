package dev.squeeze.compress.train;

import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.models.core.BadInputException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainParamsTest {

    /** Run folders are named by these: changing them orphans every existing run, so they are pinned. */
    @Test
    void hashesArePinned() {
        assertEquals("ad87d3baea3e", ConfigHash.of(TrainParams.of("lenet-300-100"), TrainParams.DEFAULTS).value());
        var tuned = new TrainParams("lenet-5", "mnist", 10, 128, 3e-3, 7, 3, 0.1, 0.8);
        ConfigHash hash = ConfigHash.of(tuned, TrainParams.DEFAULTS);
        assertEquals("{\"batch\":128,\"dataset\":\"mnist\",\"epochs\":10,\"learningRate\":0.003,\"model\":\"lenet-5\",\"seed\":7}",
                hash.hashedJson());
        assertEquals("3d01eee5b742", hash.value());
    }

    @Test
    void theSameSettingsWrittenDifferentlyHashTheSame() {
        var a = new TrainParams("mlp-tiny", "fashion-mnist", 30, 60, 0.001, 42, 3, 0.1, 0.8);
        var b = new TrainParams("mlp-tiny", "fashion-mnist", 30, 60, 1e-3, 42, 3, 0.10, 0.80);
        assertEquals(ConfigHash.of(a, TrainParams.DEFAULTS), ConfigHash.of(b, TrainParams.DEFAULTS));
    }

    @Test
    void rejectsNonsenseWithTheFlagName() {
        assertTrue(assertThrows(BadInputException.class, () -> new TrainParams("x", "d", 0, 1, 1e-3, 1, 1, 0.1, 0.8)).getMessage().contains("--epochs"));
        assertThrows(BadInputException.class, () -> new TrainParams("x", "d", 1, 0, 1e-3, 1, 1, 0.1, 0.8));
        assertThrows(BadInputException.class, () -> new TrainParams("x", "d", 1, 1, -1, 1, 1, 0.1, 0.8));
        assertThrows(BadInputException.class, () -> new TrainParams("x", "d", 1, 1, Double.NaN, 1, 1, 0.1, 0.8));
        assertThrows(BadInputException.class, () -> new TrainParams("x", "d", 1, 1, 1e-3, 1, 0, 0.1, 0.8));
        assertThrows(BadInputException.class, () -> new TrainParams("x", "d", 1, 1, 1e-3, 1, 1, 1.0, 0.8));
        assertThrows(BadInputException.class, () -> new TrainParams("x", "d", 1, 1, 1e-3, 1, 1, 0.1, 1.5));
    }

    @Test
    void learningRateDecaysPerEpoch() {
        var p = new TrainParams("x", "d", 3, 1, 1e-2, 1, 1, 0.1, 0.5);
        assertEquals(1e-2, p.learningRateAt(1), 0);
        assertEquals(2.5e-3, p.learningRateAt(3), 1e-15);
    }
}
