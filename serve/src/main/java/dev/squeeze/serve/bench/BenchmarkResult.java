package dev.squeeze.serve.bench;

import java.util.List;

/**
 * What {@link ModelBenchmark#measure} reports for one model file: plain values (Jackson writes it as flat JSON, with
 * the three batch sizes' details nested), units in the names. Values that could not be measured are null.
 *
 * @param name                     the name the caller gave the model (e.g. its variant)
 * @param file                     the ONNX file measured
 * @param timestamp                when the measurement started (ISO-8601, UTC)
 * @param onnxRuntimeVersion       ONNX Runtime's version
 * @param threads                  ONNX Runtime intra-op threads per call
 * @param warmupMillis             warm-up per batch size, excluded
 * @param windowMillis             shortest measurement window
 * @param minRunsPerWindow         fewest calls per window
 * @param maxWindows               most windows per batch size
 * @param stabilityPercent         how closely the last windows' throughputs had to agree
 * @param fileBytes                the ONNX file's size (external data files, if any, not included)
 * @param zippedBytes              the file deflated in memory (java.util.zip, default level)
 * @param parameters               elements of the weight initializers (see {@link ModelBenchmark#countParameters})
 * @param nonZeroParameters        how many of them are not zero
 * @param inputs                   the model's declared inputs, e.g. {@code x FP32 [-1, 784]}
 * @param inputData                what was fed: {@code "test set"} (its first rows, repeated when a batch needs
 *                                 more) or {@code "zeros"}
 * @param latencyP50Micros         median call latency at batch 1, microseconds
 * @param latencyP90Micros         90th percentile at batch 1
 * @param latencyP99Micros         99th percentile at batch 1
 * @param throughputBatch32        examples per second in calls of 32; null when the model's batch dimension is fixed
 * @param latencyP50Batch32Micros  median latency of one call of 32
 * @param throughputBatch256       examples per second in calls of 256; null when the batch dimension is fixed
 * @param latencyP50Batch256Micros median latency of one call of 256
 * @param stable                   whether every phase's windows stabilised
 * @param batch1                   the batch-1 measurement in detail (its batch size is the model's fixed one when the
 *                                 first input dimension is fixed)
 * @param concurrent               batch-1 calls (the fixed batch, when fixed) from several caller threads at once on
 *                                 the one session: one phase per {@link BenchmarkOptions#callers()} level above 1, in
 *                                 that order; empty when there is none (null in results recorded before issue 18)
 * @param batch32                  calls of 32 in detail, or null
 * @param batch256                 calls of 256 in detail, or null
 * @param rssBeforeBytes           the process's resident set size (VmRSS) just before the session was created;
 *                                 null where /proc/self/status is not available (not Linux)
 * @param rssAfterBytes            VmRSS after the measurement, session still open
 * @param rssIncreaseBytes         after minus before: an approximation of the session's memory, process-level (the
 *                                 JVM heap and other threads move it too)
 * @param peakRssBytes             the process's high-water mark (VmHWM) after the measurement: process-wide and
 *                                 monotonic, so it may come from anything the process did earlier
 * @param accuracy                 share of test rows whose argmax matches the label, or null
 * @param accuracyExamples         rows the accuracy is over, when known
 * @param accuracySource           {@code "onnxruntime on N examples"}, {@code "export metadata"}, or null
 * @param sha256                   the ONNX file's SHA-256 (lowercase hex): what a quantized file's provenance names as
 *                                 its source
 * @param fidelity                 when there is no accuracy: how closely the model follows the float model it was
 *                                 quantized from ({@link Fidelity}; not accuracy), or, for that float model benchmarked
 *                                 in the same set, the reference 1; null otherwise
 */
public record BenchmarkResult(String name, String file, String timestamp, String onnxRuntimeVersion, int threads,
                              long warmupMillis, long windowMillis, int minRunsPerWindow, int maxWindows,
                              double stabilityPercent,
                              long fileBytes, long zippedBytes, long parameters, long nonZeroParameters,
                              String inputs, String inputData,
                              double latencyP50Micros, double latencyP90Micros, double latencyP99Micros,
                              Double throughputBatch32, Double latencyP50Batch32Micros,
                              Double throughputBatch256, Double latencyP50Batch256Micros,
                              boolean stable, BenchmarkPhase batch1, List<BenchmarkPhase> concurrent,
                              BenchmarkPhase batch32, BenchmarkPhase batch256,
                              Long rssBeforeBytes, Long rssAfterBytes, Long rssIncreaseBytes, Long peakRssBytes,
                              Double accuracy, Integer accuracyExamples, String accuracySource,
                              String sha256, Fidelity fidelity) {

    public BenchmarkResult {
        concurrent = concurrent == null ? null : List.copyOf(concurrent);
    }
}
