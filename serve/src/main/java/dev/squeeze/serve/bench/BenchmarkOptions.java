package dev.squeeze.serve.bench;

import dev.squeeze.core.settings.Setting;
import dev.squeeze.core.settings.StageSettings;

import java.time.Duration;
import java.util.List;

/**
 * How {@link ModelBenchmark} measures: the same settings for every model variant make their results comparable.
 * Declared once here: {@code squeeze bench}'s options, the recipe's {@code bench} section, the HTTP API's
 * {@code POST /v1/benchmarks} keys ({@link BenchmarkRequest}) and the checks are made from these settings.
 *
 * @param windowMs         the shortest measurement window, in milliseconds
 * @param warmupMs         how long each batch size runs before measuring (excluded from the results); at least one
 *                         call is always made
 * @param maxWindows       windows to try before giving up on stability (at least {@value ModelBenchmark#STABLE_WINDOWS},
 *                         the windows compared)
 * @param minRunsPerWindow the fewest calls in a window: a window ends once both the window has passed and this many
 *                         calls were made, so slow models still get several samples per window
 * @param stabilityPercent the last {@value ModelBenchmark#STABLE_WINDOWS} windows' throughputs must each lie within
 *                         this percentage of their mean
 * @param threads          ONNX Runtime threads per call (inter-op threads are always 1)
 * @param callers          caller threads making batch-1 calls at once on the one session, one measurement per level;
 *                         level 1 is the batch-1 measurement itself, measured whatever this holds
 */
public record BenchmarkOptions(
        @Setting(help = "Measurement window, in milliseconds.", defaultValue = "1000", min = 1, label = "MS")
        long windowMs,
        @Setting(help = "Warm-up before measuring each batch size, in milliseconds; not measured.", defaultValue = "1000",
                min = 0, label = "MS")
        long warmupMs,
        @Setting(help = "Most windows before giving up on stable timings (the last 3 must agree).", defaultValue = "10",
                min = ModelBenchmark.STABLE_WINDOWS)
        int maxWindows,
        @Setting(help = "Fewest calls in a window, so slow models still get several samples per window.",
                defaultValue = "5", min = 1)
        int minRunsPerWindow,
        @Setting(name = "stability", help = "Windows agree when each is within this percent of their mean.",
                defaultValue = "10", min = 0, minExclusive = true, label = "PERCENT")
        double stabilityPercent,
        @Setting(help = "ONNX Runtime threads per call.", defaultValue = "1", min = 1)
        int threads,
        @Setting(help = "Caller threads making batch-1 calls at once on the one session, each level measured in turn "
                + "(1: the batch-1 measurement, always made).", defaultValue = "1,16", min = 1, max = 1024, label = "N,N")
        List<Integer> callers) {

    /** The settings, as declared above. */
    public static final StageSettings<BenchmarkOptions> SETTINGS = StageSettings.of(BenchmarkOptions.class);

    /**
     * Every setting at its default: 1 s windows of at least 5 calls after 1 s of warm-up, up to 10, within 10%, 1 thread,
     * and batch 1 from 1 and from 16 caller threads.
     */
    public static final BenchmarkOptions DEFAULTS = SETTINGS.defaults();

    /** {@link #warmupMs()} as a duration. */
    public Duration warmup() {
        return Duration.ofMillis(warmupMs);
    }

    /** {@link #windowMs()} as a duration. */
    public Duration window() {
        return Duration.ofMillis(windowMs);
    }

    /** These options with setting {@code name} ({@code window-ms}) set to {@code value}. */
    public BenchmarkOptions with(String name, Object value) {
        return SETTINGS.with(this, name, value);
    }
}
