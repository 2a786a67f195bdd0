package dev.squeeze.pipeline.bench;

import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.core.settings.SettingSpec;
import dev.squeeze.serve.bench.BenchmarkOptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The bench stage hashes every BenchmarkOptions setting; a default measurement keeps the folder it always had. */
class BenchParamsTest {
    private static final BenchService.Target TARGET = new BenchService.Target("a", Path.of("/models/a/model.onnx"));

    @Test
    void everyMeasurementSettingIsHashed() {
        String base = ConfigHash.of(BenchService.BenchParams.of(TARGET, null, BenchmarkOptions.DEFAULTS),
                BenchService.BenchParams.DEFAULTS).value();
        for (SettingSpec s : BenchmarkOptions.SETTINGS.settings()) {
            Object other = switch (s.type()) {
                case INTEGER -> ((Integer) s.defaultValue()) + 1;
                case LONG -> ((Long) s.defaultValue()) + 1;
                case NUMBER -> ((Double) s.defaultValue()) + 1;
                case LIST -> List.of(1, 2);
                default -> throw new AssertionError("a new kind of bench setting: " + s.name());
            };
            BenchService.BenchParams params = BenchService.BenchParams.of(TARGET, null,
                    BenchmarkOptions.DEFAULTS.with(s.name(), other));
            assertNotEquals(base, ConfigHash.of(params, BenchService.BenchParams.DEFAULTS).value(), s.name());
        }
    }

    @Test
    void aDefaultMeasurementKeepsItsFolderAndOthersHashTheirSettingsNested() {
        ConfigHash plain = ConfigHash.of(BenchService.BenchParams.of(TARGET, "mnist", BenchmarkOptions.DEFAULTS),
                BenchService.BenchParams.DEFAULTS);
        assertEquals("{\"dataset\":\"mnist\",\"file\":\"" + Path.of("/models/a/model.onnx").toAbsolutePath()
                + "\",\"model\":\"a\"}", plain.hashedJson(), "as before the measurement was nested");
        ConfigHash hash = ConfigHash.of(BenchService.BenchParams.of(TARGET, "mnist", BenchmarkOptions.DEFAULTS
                .with("window-ms", 100L).with("warmup-ms", 50L).with("max-windows", 4)), BenchService.BenchParams.DEFAULTS);
        assertEquals("{\"dataset\":\"mnist\",\"file\":\"" + Path.of("/models/a/model.onnx").toAbsolutePath()
                + "\",\"measure\":{\"maxWindows\":4,\"warmupMs\":50,\"windowMs\":100},\"model\":\"a\"}", hash.hashedJson());
    }
}
