package dev.squeeze.pipeline.bench;

import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.core.settings.SettingSpec;
import dev.squeeze.core.settings.StageSettings;
import dev.squeeze.serve.bench.BenchmarkOptions;
import org.junit.jupiter.api.Test;

import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bench stage hashes every BenchmarkOptions setting, under the names bench folders have always been hashed by. */
class BenchParamsTest {
    private static final BenchService.Target TARGET = new BenchService.Target("a", Path.of("/models/a/model.onnx"));

    @Test
    void everyMeasurementSettingIsHashedUnderItsComponentName() {
        Map<String, Class<?>> hashed = new java.util.HashMap<>();
        for (RecordComponent c : BenchService.BenchParams.class.getRecordComponents()) hashed.put(c.getName(), c.getType());
        StageSettings<BenchmarkOptions> settings = BenchmarkOptions.SETTINGS;
        String base = ConfigHash.of(BenchService.BenchParams.of(TARGET, null, BenchmarkOptions.DEFAULTS),
                BenchService.BenchParams.DEFAULTS).value();
        for (SettingSpec s : settings.settings()) {
            RecordComponent component = Arrays.stream(BenchmarkOptions.class.getRecordComponents())
                    .filter(c -> c.getName().equals(s.component())).findFirst().orElseThrow();
            assertEquals(component.getType(), hashed.get(s.component()), "BenchParams." + s.component());
            Object other = switch (s.type()) {
                case INTEGER -> ((Integer) s.defaultValue()) + 1;
                case LONG -> ((Long) s.defaultValue()) + 1;
                case NUMBER -> ((Double) s.defaultValue()) + 1;
                default -> throw new AssertionError("a new kind of bench setting: " + s.name());
            };
            BenchService.BenchParams params = BenchService.BenchParams.of(TARGET, null,
                    BenchmarkOptions.DEFAULTS.with(s.name(), other));
            assertEquals(other, StageSettings.of(BenchService.BenchParams.class).get(params, s.component()), s.name());
            assertNotEquals(base, ConfigHash.of(params, BenchService.BenchParams.DEFAULTS).value(), s.name());
        }
    }

    @Test
    void benchFoldersKeepTheirHashes() {
        // The hashed text is what it was before the settings were declared on BenchmarkOptions.
        ConfigHash hash = ConfigHash.of(BenchService.BenchParams.of(TARGET, "mnist", BenchmarkOptions.DEFAULTS
                .with("window-ms", 100L).with("warmup-ms", 50L).with("max-windows", 4)), BenchService.BenchParams.DEFAULTS);
        assertEquals("{\"dataset\":\"mnist\",\"file\":\"" + Path.of("/models/a/model.onnx").toAbsolutePath()
                + "\",\"maxWindows\":4,\"model\":\"a\",\"warmupMs\":50,\"windowMs\":100}", hash.hashedJson());
        assertTrue(hash.value().matches("[0-9a-f]{12}"));
    }
}
