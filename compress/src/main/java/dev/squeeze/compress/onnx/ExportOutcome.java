package dev.squeeze.compress.onnx;

import dev.squeeze.compress.artifacts.Json;

import java.util.Locale;

/**
 * What {@code squeeze export} wrote and measured through ONNX Runtime.
 *
 * @param mode               {@code float} or {@code int8} (QDQ)
 * @param maxAbsDifference   float mode: the largest |probability difference| against the source model; NaN for int8
 * @param top1Agreement      share of test examples whose top-1 class matches the source model's
 * @param sourceTestAccuracy the source model's test accuracy (DL4J, or the ND4J int8 network)
 * @param onnxTestAccuracy   test accuracy of the written file in ONNX Runtime
 */
public record ExportOutcome(String runId, String sourceRun, String source, String output, String mode, long opset,
                            long fileBytes, long zippedBytes, long params, long nonzeroParams, int testExamples,
                            double sourceTestAccuracy, double onnxTestAccuracy, double maxAbsDifference,
                            double top1Agreement, String fusedOperators) {

    /** This outcome with the written file at {@code file} (the copy at {@code --output}, not the run folder's). */
    public ExportOutcome withOutput(String file) {
        return new ExportOutcome(runId, sourceRun, source, file, mode, opset, fileBytes, zippedBytes, params, nonzeroParams,
                testExamples, sourceTestAccuracy, onnxTestAccuracy, maxAbsDifference, top1Agreement, fusedOperators);
    }

    public String format() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "model   %s (%s, opset %d, IR %d)%n", output, mode, opset,
                ExportService.irVersion(opset)));
        out.append(String.format(Locale.ROOT, "size    %,d bytes, %,d zipped; %,d parameters, %,d non-zero (%.1f%% zero)%n",
                fileBytes, zippedBytes, params, nonzeroParams, 100.0 * (params - nonzeroParams) / Math.max(1, params)));
        out.append(String.format(Locale.ROOT, "test    %.2f%% in ONNX Runtime on %,d examples (source model %.2f%%)%n",
                100 * onnxTestAccuracy, testExamples, 100 * sourceTestAccuracy));
        out.append(String.format(Locale.ROOT, "parity  top-1 agreement %.2f%%%s%n", 100 * top1Agreement,
                Double.isNaN(maxAbsDifference) ? "" : String.format(Locale.ROOT, ", max |difference| %.2e", maxAbsDifference)));
        if (!fusedOperators.isEmpty()) out.append("fused   ").append(fusedOperators).append(System.lineSeparator());
        out.append(String.format(Locale.ROOT, "run     %s (from %s)%n", runId, sourceRun != null ? sourceRun : source));
        return out.toString();
    }

    public String json() {
        return Json.write(this);
    }
}
