package dev.squeeze.pipeline.shrink;

import dev.squeeze.compress.onnx.ExportOutcome;
import dev.squeeze.compress.onnx.ExportService;
import dev.squeeze.compress.onnx.ExportParams;
import dev.squeeze.compress.quant.Granularity;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One way {@code squeeze shrink} turns a float model into the ONNX file a candidate is measured as: quantized or not
 * (by which {@code quantize} settings), and exported how. Every float model the search makes (the trained one, each
 * pruning level, each student) is measured as each variant that {@linkplain #appliesTo applies} to it.
 *
 * <p>Every variant's file stores a pruned model's weights as ONNX sparse initializers where that is smaller
 * or packs them ({@code squeeze export}'s default, {@code --sparse auto}), so an unstructured pruning level's file
 * shrinks with the weights it removed; a 4-bit weight is always stored dense (export leaves 4-bit types dense).
 *
 * @param name        what the tables call it: {@code float}, {@code int8}, {@code int4}, {@code int8/15}, {@code int8/31},
 *                    {@code int8/15t}, {@code int8/31t}
 * @param quantize    the {@code quantize} settings by name (empty: every default, int8), or null to export the float
 *                    model as it is
 * @param export      how the model (float, or the quantize run's) becomes an ONNX file
 * @param weightBits  the fewest bits a dense weight takes in the file: what bounds a model's size before it is trained
 */
public record Variant(String name, Map<String, ?> quantize, Export export, int weightBits) {

    /** Writes the ONNX file of model {@code from} (a run id) through {@code service}. */
    @FunctionalInterface
    public interface Export {
        ExportOutcome export(ExportService service, String from, Path dataDir);
    }

    /** {@code squeeze export} as it is: pruned weights stored sparse where that is smaller. */
    public static final Export EXPORT = (service, from, dataDir) -> service.export(from, null, ExportParams.DEFAULT_OPSET,
            dataDir);

    public static final Variant FLOAT = new Variant("float", null, EXPORT, 32);
    public static final Variant INT8 = new Variant("int8", Map.of(), EXPORT, 8);
    /**
     * Block-wise 4-bit weights of every dense layer ({@code quantize --bits 4}, blocks of 32), convolutions at 8 bits;
     * written at opset 21, run by ONNX Runtime's MatMulNBits.
     */
    public static final Variant INT4 = new Variant("int4", Map.of("bits", 4), EXPORT, 4);
    /**
     * int8 with each layer's weights sharing 15 values ({@code quantize --weight-sharing 15}): the export packs each
     * non-zero weight as a 4-bit code and its gap, Deep Compression's storage, computed by the int8 kernels.
     */
    public static final Variant INT8_SHARED_15 = new Variant("int8/15", Map.of("weight-sharing", 15), EXPORT, 4);
    /**
     * The same with 31 values, 5-bit codes: on the demo's dense lenet-300-100 (2026-12-07), 15 values lost 0.25
     * points of validation accuracy and 31 values 0.35; on lenet-5 0.97 and 0.28.
     */
    public static final Variant INT8_SHARED_31 = new Variant("int8/31", Map.of("weight-sharing", 31), EXPORT, 5);
    /**
     * int8/15 with one weight scale a layer ({@code --granularity tensor}): the layer's weights share 15 values
     * exactly, Deep Compression's codebook, and the file holds no per-channel scales. Neither granularity is always
     * the more accurate: on the demo's dense lenet-300-100 one scale a layer lost 0.52 points of validation accuracy
     * (per channel 0.25), on lenet-5 0.73 (per channel 0.97).
     */
    public static final Variant INT8_SHARED_15_TENSOR = new Variant("int8/15t",
            Map.of("weight-sharing", 15, "granularity", Granularity.TENSOR), EXPORT, 4);
    /** int8/31 with one weight scale a layer: on lenet-300-100 0.22 points lost (per channel 0.35), lenet-5 0.00 (0.28). */
    public static final Variant INT8_SHARED_31_TENSOR = new Variant("int8/31t",
            Map.of("weight-sharing", 31, "granularity", Granularity.TENSOR), EXPORT, 5);

    /** The variants a search tries, in order. */
    public static final List<Variant> ALL = List.of(FLOAT, INT8, INT4, INT8_SHARED_15, INT8_SHARED_31,
            INT8_SHARED_15_TENSOR, INT8_SHARED_31_TENSOR);

    /** Whether the model is quantized first. */
    public boolean quantized() {
        return quantize != null;
    }

    /**
     * Whether measuring {@code model} as this variant can tell anything new: the float file of the trained model is
     * the baseline, not a candidate; a structured level or a student as float is the trained model's kind of file,
     * only smaller, and so is a candidate; an unstructured level as float is one through its sparse weights.
     *
     * @param baseline whether the model is the trained model itself
     */
    public boolean appliesTo(boolean baseline) {
        return quantized() || !baseline;
    }
}
