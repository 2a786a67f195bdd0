package dev.squeeze.compress.onnx;

import dev.squeeze.compress.artifacts.Json;

import java.util.List;
import java.util.Locale;

/**
 * What {@code squeeze export} wrote and measured through ONNX Runtime.
 *
 * @param mode               {@code float} or {@code int8} (QDQ)
 * @param maxAbsDifference   float mode: the largest |probability difference| against the source model; NaN for int8
 * @param top1Agreement      share of test examples whose top-1 class matches the source model's
 * @param sourceTestAccuracy the source model's test accuracy (DL4J, or the ND4J int8 network)
 * @param onnxTestAccuracy   test accuracy of the written file in ONNX Runtime
 * @param fusedOperators     int8: ONNX Runtime's integer kernels in its optimized graph of the written file
 * @param sparse             the sparse storage setting ({@code auto}, {@code int64}, {@code never}); null in
 *                           outcomes written before it
 * @param denseFileBytes     the file's size with every initializer dense ({@code fileBytes} when none went sparse)
 * @param sparseInitializers the weights written as sparse initializers, with their sizes both ways
 */
public record ExportOutcome(String runId, String sourceRun, String source, String output, String mode, long opset,
                            long fileBytes, long zippedBytes, long params, long nonzeroParams, int testExamples,
                            double sourceTestAccuracy, double onnxTestAccuracy, double maxAbsDifference,
                            double top1Agreement, String fusedOperators, String sparse, long denseFileBytes,
                            List<SparseInitializers.SparseTensor> sparseInitializers) {

    public ExportOutcome {
        sparseInitializers = sparseInitializers == null ? List.of() : List.copyOf(sparseInitializers);
        if (denseFileBytes == 0) denseFileBytes = fileBytes;   // outcomes written before sparse storage
    }

    /** This outcome with the written file at {@code file} (the copy at {@code --output}, not the run folder's). */
    public ExportOutcome withOutput(String file) {
        return new ExportOutcome(runId, sourceRun, source, file, mode, opset, fileBytes, zippedBytes, params, nonzeroParams,
                testExamples, sourceTestAccuracy, onnxTestAccuracy, maxAbsDifference, top1Agreement, fusedOperators, sparse,
                denseFileBytes, sparseInitializers);
    }

    public String format() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "model   %s (%s, opset %d, IR %d)%n", output, mode, opset,
                ExportService.irVersion(opset)));
        String both = sparse == null || sparse.equals("never") ? ""
                : sparseInitializers.isEmpty() ? " (no weight smaller sparse)"
                : String.format(Locale.ROOT, " (%,d with every weight dense)", denseFileBytes);
        out.append(String.format(Locale.ROOT, "size    %,d bytes%s, %,d zipped; %,d parameters, %,d non-zero (%.1f%% zero)%n",
                fileBytes, both, zippedBytes, params, nonzeroParams, 100.0 * (params - nonzeroParams) / Math.max(1, params)));
        for (SparseInitializers.SparseTensor t : sparseInitializers) {
            out.append(String.format(Locale.ROOT, "sparse  %s %s (%s %s): %.1f%% non-zero, %,d -> %,d bytes, %s%n",
                    t.name(), t.shape(), t.type().toLowerCase(Locale.ROOT), t.reader(), 100 * t.density(),
                    t.denseBytes(), t.sparseBytes(), t.storageNote()));
        }
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
