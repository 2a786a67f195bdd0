package dev.squeeze.cli;

import dev.squeeze.serve.bench.BenchmarkOptions;
import picocli.CommandLine.Model.CommandSpec;

import java.util.Map;
import java.util.Set;

/** How {@code bench} measures, as options: made from {@link BenchmarkOptions}' settings. */
public final class BenchOptions extends SettingOptions<BenchmarkOptions> {
    public BenchOptions() {
        super(BenchmarkOptions.SETTINGS, Set.of());
    }

    /** The settings as given on {@code spec}'s command line. */
    static BenchmarkOptions options(CommandSpec spec) {
        return read(spec, BenchmarkOptions.SETTINGS, Map.of());
    }
}
