package dev.squeeze.pipeline.shrink;

import dev.squeeze.compress.onnx.ExportOutcome;
import dev.squeeze.compress.onnx.ExportService;
import dev.squeeze.compress.onnx.ExportParams;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One way {@code squeeze shrink} turns a float model into the ONNX file a candidate is measured as: quantized or not
 * (by which {@code quantize} settings), and exported how. Every float model the search makes (the trained one, each
 * pruning level, each student) is measured as each variant that {@linkplain #appliesTo applies} to it.
 *
 * @param name        what the tables call it: {@code float}, {@code int8}
 * @param quantize    the {@code quantize} settings by name (empty: every default, int8), or null to export the float
 *                    model as it is
 * @param export      how the model (float, or the quantize run's) becomes an ONNX file
 * @param weightBits  the fewest bits a weight takes in the file: what bounds a model's size before it is trained
 * @param sparse      whether the file stores only the non-zero weights, so that unstructured pruning shrinks it
 */
public record Variant(String name, Map<String, ?> quantize, Export export, int weightBits, boolean sparse) {

    /** Writes the ONNX file of model {@code from} (a run id) through {@code service}. */
    @FunctionalInterface
    public interface Export {
        ExportOutcome export(ExportService service, String from, Path dataDir);
    }

    /** {@code squeeze export} as it is: every weight stored, zeros included. */
    public static final Export DENSE = (service, from, dataDir) -> service.export(from, null, ExportParams.DEFAULT_OPSET,
            dataDir);

    public static final Variant FLOAT = new Variant("float", null, DENSE, 32, false);
    public static final Variant INT8 = new Variant("int8", Map.of(), DENSE, 8, false);

    /**
     * The variants a search tries, in order. Issue 19's other two parts plug in here, one line each, once they are
     * built (they are not yet, so no search includes them):
     * <ul>
     *   <li>4-bit weights, {@code quantize --bits 4} and {@code --keep-8bit}: {@code new Variant("int4",
     *       Map.of("bits", 4), DENSE, 4, false)};</li>
     *   <li>sparse storage, export's sparse initializers: {@code new Variant("int8-sparse", Map.of(), (service, from,
     *       dataDir) -> service.export(from, null, <the sparse export settings>, dataDir), 8, true)} (and a float one
     *       with {@code quantize} null).</li>
     * </ul>
     */
    public static final List<Variant> ALL = List.of(FLOAT, INT8);

    /** Whether the model is quantized first. */
    public boolean quantized() {
        return quantize != null;
    }

    /**
     * Whether measuring {@code model} as this variant can tell anything new. Sparse storage only for a model with
     * pruned zeros; a float file of the trained model is the baseline, not a candidate; and a float file that stores
     * a pruned model's zeros is the trained model's size and speed with less accuracy, never better.
     *
     * @param zeros    whether the model holds pruned (zero) weights: an unstructured pruning level
     * @param baseline whether it is the trained model itself
     */
    public boolean appliesTo(boolean zeros, boolean baseline) {
        if (sparse) return zeros;
        if (!quantized()) return !zeros && !baseline;
        return true;
    }
}
