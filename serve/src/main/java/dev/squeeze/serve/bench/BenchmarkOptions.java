package dev.squeeze.serve.bench;

import java.time.Duration;

/**
 * How {@link ModelBenchmark} measures: the same settings for every model variant make their results comparable.
 *
 * @param intraOpThreads    ONNX Runtime threads per call (inter-op threads are always 1)
 * @param warmup            how long each batch size runs before measuring (excluded from the results); at least one
 *                          call is always made
 * @param window            the shortest measurement window
 * @param minRunsPerWindow  the fewest calls in a window: a window ends once both {@code window} has passed and this
 *                          many calls were made, so slow models still get several samples per window
 * @param maxWindows        windows to try before giving up on stability (at least 3, the windows compared)
 * @param stabilityPercent  the last {@value ModelBenchmark#STABLE_WINDOWS} windows' throughputs must each lie within
 *                          this percentage of their mean
 */
public record BenchmarkOptions(int intraOpThreads, Duration warmup, Duration window, int minRunsPerWindow, int maxWindows,
                               double stabilityPercent) {

    /** 1 thread, 1 s warm-up, windows of at least 1 s and 5 calls, up to 10 windows, stable within 10%. */
    public static final BenchmarkOptions DEFAULTS = new BenchmarkOptions(1, Duration.ofSeconds(1), Duration.ofSeconds(1),
            5, 10, 10.0);

    public BenchmarkOptions {
        if (intraOpThreads < 1) throw new IllegalArgumentException("intraOpThreads must be at least 1, got " + intraOpThreads);
        if (warmup == null || warmup.isNegative()) throw new IllegalArgumentException("warmup must be zero or more, got " + warmup);
        if (window == null || window.isNegative() || window.isZero()) {
            throw new IllegalArgumentException("window must be positive, got " + window);
        }
        if (minRunsPerWindow < 1) throw new IllegalArgumentException("minRunsPerWindow must be at least 1, got " + minRunsPerWindow);
        if (maxWindows < ModelBenchmark.STABLE_WINDOWS) {
            throw new IllegalArgumentException("maxWindows must be at least " + ModelBenchmark.STABLE_WINDOWS + ", got " + maxWindows);
        }
        if (!(stabilityPercent > 0)) throw new IllegalArgumentException("stabilityPercent must be positive, got " + stabilityPercent);
    }

    public BenchmarkOptions withIntraOpThreads(int threads) {
        return new BenchmarkOptions(threads, warmup, window, minRunsPerWindow, maxWindows, stabilityPercent);
    }

    public BenchmarkOptions withWarmup(Duration d) {
        return new BenchmarkOptions(intraOpThreads, d, window, minRunsPerWindow, maxWindows, stabilityPercent);
    }

    public BenchmarkOptions withWindow(Duration d) {
        return new BenchmarkOptions(intraOpThreads, warmup, d, minRunsPerWindow, maxWindows, stabilityPercent);
    }

    public BenchmarkOptions withMinRunsPerWindow(int runs) {
        return new BenchmarkOptions(intraOpThreads, warmup, window, runs, maxWindows, stabilityPercent);
    }

    public BenchmarkOptions withMaxWindows(int windows) {
        return new BenchmarkOptions(intraOpThreads, warmup, window, minRunsPerWindow, windows, stabilityPercent);
    }

    public BenchmarkOptions withStabilityPercent(double percent) {
        return new BenchmarkOptions(intraOpThreads, warmup, window, minRunsPerWindow, maxWindows, percent);
    }
}
