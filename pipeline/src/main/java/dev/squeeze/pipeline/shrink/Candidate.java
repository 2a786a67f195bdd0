package dev.squeeze.pipeline.shrink;

import java.util.Locale;

/**
 * One model {@code squeeze shrink} measured: a float model the search made (or the trained one) as one
 * {@link Variant}, exported and measured on the same terms as every other: the raw ONNX file, validation and test
 * accuracy in ONNX Runtime, and the p50 latency of one image from the in-process benchmark.
 *
 * @param number       its place in the search (1, 2, ...); 0 for the dense float model every candidate is measured
 *                     against
 * @param kind         the kind that made it: {@code trained}, {@code int8}, {@code prune}, {@code structured},
 *                     {@code distill}
 * @param source       the float model, in words: {@code trained model}, {@code pruned L2 (25.0% of weights)}
 * @param variant      the {@link Variant}'s name
 * @param modelRun     the run of the model that was exported: the float model's, or its quantization's
 * @param exportRun    the export run: its folder holds {@code model.onnx}
 * @param measureRun   the {@value ShrinkService#CANDIDATE_STAGE} run holding this measurement
 * @param benchRun     the benchmark run the latency comes from
 * @param valAcc       validation accuracy of the file in ONNX Runtime (what the choice is made on)
 * @param testAcc      test accuracy of the file in ONNX Runtime (reported, never chosen on)
 * @param withinBudget whether its validation accuracy is within the budget of the dense model's
 */
public record Candidate(int number, String kind, String source, String variant, String model, String modelRun,
                        String exportRun, String measureRun, String benchRun, String file, long fileBytes,
                        long zippedBytes, long params, long nonzeroParams, double valAcc, double testAcc,
                        double latencyP50Micros, double latencyP99Micros, boolean withinBudget) {

    /** What the tables call it: {@code int8 of pruned L2 (25.0% of weights)}. */
    public String describe() {
        return variant + " of " + source;
    }

    /** Its cost under {@code target}: bytes or microseconds. */
    public double cost(ShrinkTarget target) {
        return target == ShrinkTarget.SIZE ? fileBytes : latencyP50Micros;
    }

    /** The progress line printed as it is measured. */
    public String line(Candidate dense, double budget) {
        return String.format(Locale.ROOT, "candidate %d: %s: %s (%.1fx smaller), val %.2f%% (%+.2f), test %.2f%%, "
                        + "p50 %.1f us: %s", number, describe(), kb(fileBytes), (double) dense.fileBytes() / fileBytes,
                100 * valAcc, 100 * (valAcc - dense.valAcc()), 100 * testAcc, latencyP50Micros,
                withinBudget ? "within budget" : String.format(Locale.ROOT, "over the %s-point budget",
                        dev.squeeze.core.settings.SettingSpec.number(budget)));
    }

    static String kb(long bytes) {
        return String.format(Locale.ROOT, "%,.1f KB", bytes / 1024.0);
    }
}
