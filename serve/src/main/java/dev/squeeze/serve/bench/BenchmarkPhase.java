package dev.squeeze.serve.bench;

import java.util.List;

/**
 * The measurement of one batch size from some number of caller threads: calls repeated in windows until the last
 * {@value ModelBenchmark#STABLE_WINDOWS} windows' throughputs agree (or the window limit is reached). Reported values
 * are the median over those last windows of each window's value; the spread is their minimum and maximum.
 *
 * @param batchSize                     examples per call
 * @param callers                       threads making calls at once on the one session, each calling again as soon
 *                                      as its call returns (0 in results recorded before issue 18: 1)
 * @param windows                       measurement windows run (warm-up excluded)
 * @param stable                        whether the last windows' throughputs agreed within the stability percentage
 * @param runs                          measured calls over all windows, all callers' together
 * @param windowThroughputs             every window's throughput in samples per second (all callers' calls), in order
 * @param throughputSamplesPerSecond    median throughput of the last windows (examples per second)
 * @param throughputMinSamplesPerSecond the lowest of those windows' throughputs
 * @param throughputMaxSamplesPerSecond the highest
 * @param latencyP50Micros              median over the last windows of each window's 50th percentile call latency
 *                                      (over every caller's calls that ended in the window)
 * @param latencyP90Micros              the same for the 90th percentile
 * @param latencyP99Micros              the same for the 99th percentile
 * @param latencyP50MinMicros           the lowest of those windows' 50th percentiles
 * @param latencyP50MaxMicros           the highest
 */
public record BenchmarkPhase(int batchSize, int callers, int windows, boolean stable, long runs, List<Double> windowThroughputs,
                             double throughputSamplesPerSecond, double throughputMinSamplesPerSecond,
                             double throughputMaxSamplesPerSecond, double latencyP50Micros, double latencyP90Micros,
                             double latencyP99Micros, double latencyP50MinMicros, double latencyP50MaxMicros) {

    public BenchmarkPhase {
        windowThroughputs = List.copyOf(windowThroughputs);
    }
}
