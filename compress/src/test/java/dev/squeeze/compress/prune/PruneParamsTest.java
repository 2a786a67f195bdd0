package dev.squeeze.compress.prune;

import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PruneParamsTest {
    private static final String DENSE = "ad87d3baea3e";

    /**
     * Search folders are named by these hashes; they were computed before the settings were declared on the record
     * (when unstructured pruning was a null structure), and must not move.
     */
    @Test
    void hashesArePinned() {
        ConfigHash defaults = ConfigHash.of(PruneParams.DEFAULTS.withSource(DENSE), PruneParams.DEFAULTS);
        assertEquals("{\"source\":\"ad87d3baea3e\"}", defaults.hashedJson());
        assertEquals("20f4f36bb92d", defaults.value());
        ConfigHash neurons = ConfigHash.of(new PruneParams(DENSE, 5, 0.2, "0", PruneScope.LAYER, PruneControl.NONE,
                Structure.NEURONS), PruneParams.DEFAULTS);
        assertEquals("{\"source\":\"ad87d3baea3e\",\"structure\":\"NEURONS\"}", neurons.hashedJson());
        assertEquals("6fcea847b4bb", neurons.value());
        ConfigHash tuned = ConfigHash.of(new PruneParams(DENSE, 3, 0.5, "500it", PruneScope.GLOBAL, PruneControl.REINIT),
                PruneParams.DEFAULTS);
        assertEquals("853c3f4bd649", tuned.value());
        ConfigHash taught = ConfigHash.of(new PruneParams(DENSE, 5, 0.2, "0", PruneScope.LAYER, PruneControl.NONE,
                Structure.NONE, PruneTeacher.DENSE), PruneParams.DEFAULTS);
        assertEquals("{\"source\":\"ad87d3baea3e\",\"teacher\":\"DENSE\"}", taught.hashedJson(),
                "a search that learns from the dense model has a folder of its own");
    }

    @Test
    void defaultsComeFromTheSettings() {
        assertEquals(new PruneParams(null, 5, 0.2, "0", PruneScope.LAYER, PruneControl.NONE, Structure.NONE),
                PruneParams.DEFAULTS);
        assertEquals(5, PruneParams.DEFAULT_LEVELS);
        assertEquals(0.2, PruneParams.DEFAULT_RATE);
    }

    /** A search's config.json written when unstructured was null reads back as unstructured. */
    @Test
    void anOldConfigWithANullStructureReadsAsUnstructured() throws Exception {
        PruneParams old = Json.read("{\"control\":\"NONE\",\"levels\":5,\"rate\":0.2,\"rewindTo\":\"0\",\"scope\":\"LAYER\","
                + "\"source\":\"ad87d3baea3e\",\"structure\":null}", PruneParams.class);
        assertEquals(Structure.NONE, old.structure());
        assertEquals(PruneTeacher.NONE, old.teacher(), "written before the teacher setting: labels only");
        assertEquals("20f4f36bb92d", ConfigHash.of(old, PruneParams.DEFAULTS).value());
    }

    @Test
    void checksNameTheSetting() {
        var e = assertThrows(BadInputException.class, () -> PruneParams.SETTINGS.check(
                new PruneParams(null, 0, 0.2, "0", PruneScope.LAYER, PruneControl.NONE)));
        assertEquals("levels must be an integer >= 1, got 0", e.getMessage());
        e = assertThrows(BadInputException.class, () -> PruneParams.SETTINGS.check(
                new PruneParams(null, 2, 1.0, "0", PruneScope.LAYER, PruneControl.NONE)));
        assertEquals("rate must be a number > 0 and < 1, got 1", e.getMessage());
        e = assertThrows(BadInputException.class, () -> new PruneParams(null, 2, 0.5, "0", PruneScope.GLOBAL,
                PruneControl.NONE, Structure.CHANNELS));
        assertEquals("scope global applies to unstructured pruning; structured pruning cuts each layer, so leave scope "
                + "out when structure is set", e.getMessage());
    }
}
