package dev.squeeze.compress.onnx;

import dev.squeeze.core.settings.Setting;
import dev.squeeze.core.settings.StageSettings;

/**
 * The settings of an export; their hash is recorded with the run. The opset is the user's setting; the source is what
 * the command or the recipe names, resolved by {@link ExportService} to a run id or a file's absolute path, so it is
 * not a setting with a default.
 *
 * @param source the source model's run id, or its file's absolute path
 * @param opset  the ONNX opset the graph declares
 * @param sparse whether pruned weights are written as sparse initializers where that is smaller; hashed against
 *               {@code never}, how exports were written before, so those runs keep their folders
 * @param writer the version of the file these settings make, where the exporter changed it: null for the first,
 *               {@link #SPARSE_PARTS} for {@code auto} since large weights are stored in parts, {@link #PACKED} since
 *               weights are packed, {@link #COMPUTED_QUANTIZATION} since int8 scales are computed, {@link #RICE_GAPS} since
 *               packed gaps are Rice-coded, {@link #SCALAR_BIAS_SCALE} since a per-tensor layer has one bias scale.
 *               Not a user setting:
 *               {@link ExportService} fills it in, and the hash includes it when set, so an export an older writer
 *               made is not reused where the file would now differ
 */
public record ExportParams(
        String source,
        @Setting(help = "ONNX opset; 13 is the first with per-channel int8.", defaultValue = "17", min = 13, max = 21)
        long opset,
        @Setting(help = "Store pruned weights as ONNX sparse initializers where that makes the file smaller: auto "
                + "(indices in the smallest integer type ONNX Runtime reads), int64 (the index type onnx.checker "
                + "requires; larger), never.", label = "WHEN", defaultValue = "auto", hashedAs = "never")
        SparseStorage sparse,
        Integer writer) {

    /** {@link #writer}: {@code --sparse auto} stores a weight of more than 32,768 elements in int16-indexed parts. */
    public static final int SPARSE_PARTS = 2;
    /**
     * {@link #writer}: {@code --sparse auto} packs weights as codes and gaps ({@link PackedWeights}) where smaller, and
     * a normalization of one value for every pixel is written as one value (version 3 wrote it per pixel: not
     * released).
     */
    public static final int PACKED = 4;
    /**
     * {@link #writer}: an int8 file's per-channel bias scales, weight zero points and 16-bit bias codes are written as
     * the nodes that compute them (Mul, ConstantOfShape, Cast) where smaller ({@link QdqNodes}). {@code never} and
     * {@code int64} int8 files changed too but keep their hashes (as pinned): an older one computes the same outputs
     * and is reused as it is.
     */
    public static final int COMPUTED_QUANTIZATION = 5;
    /**
     * {@link #writer}: a packed weight's gaps are Rice-coded, their high parts in a third stream ({@link PackedWeights}),
     * where version 5 wrote fixed-width gaps and fillers; nodes have no names and the outputs no Identity. (Version 6
     * decoded the high stream with NonZero, which ONNX Runtime does not fold: not released.)
     */
    public static final int RICE_GAPS = 7;
    /**
     * {@link #writer}: an int8 layer with one weight scale (per-tensor) has one bias scale, where version 7 wrote the
     * same value once per channel. {@code never} and {@code int64} files changed too and keep their hashes, as for
     * {@link #COMPUTED_QUANTIZATION}.
     */
    public static final int SCALAR_BIAS_SCALE = 8;

    /** The settings, as options and recipe keys see them. */
    public static final StageSettings<ExportParams> SETTINGS = StageSettings.of(ExportParams.class);

    /** Every setting at its default, no source. */
    public static final ExportParams DEFAULTS = SETTINGS.defaults();
    /** What configuration hashes are taken against: every setting at its hashed-as value, no source. */
    public static final ExportParams HASH_BASE = SETTINGS.hashBase();
    public static final long DEFAULT_OPSET = DEFAULTS.opset();
    public static final SparseStorage DEFAULT_SPARSE = DEFAULTS.sparse();
    /** The lowest opset whose QuantizeLinear/DequantizeLinear take per-axis scales (13). */
    public static final long MIN_OPSET = SETTINGS.setting("opset").orElseThrow().min().longValue();

    /** An export at {@code opset} with sparse storage at its default. */
    public ExportParams(String source, long opset) {
        this(source, opset, DEFAULT_SPARSE);
    }

    /** An export with these settings, the writer not filled in. */
    public ExportParams(String source, long opset, SparseStorage sparse) {
        this(source, opset, sparse, null);
    }

    /** These settings for {@code source}. */
    public ExportParams withSource(String source) {
        return new ExportParams(source, opset, sparse, writer);
    }

    /** These settings with sparse storage {@code sparse}. */
    public ExportParams withSparse(SparseStorage sparse) {
        return new ExportParams(source, opset, sparse, writer);
    }

    /** These settings with the version of the file the exporter now writes for them filled in. */
    public ExportParams withCurrentWriter() {
        return new ExportParams(source, opset, sparse, sparse == SparseStorage.AUTO ? Integer.valueOf(SCALAR_BIAS_SCALE) : null);
    }
}
