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
 */
public record ExportParams(
        String source,
        @Setting(help = "ONNX opset; 13 is the first with per-channel int8.", defaultValue = "17", min = 13, max = 21)
        long opset) {

    /** The settings, as options and recipe keys see them. */
    public static final StageSettings<ExportParams> SETTINGS = StageSettings.of(ExportParams.class);

    /** What configuration hashes are taken against: every setting at its default, no source. */
    public static final ExportParams DEFAULTS = SETTINGS.hashBase();
    public static final long DEFAULT_OPSET = DEFAULTS.opset();
    /** The lowest opset whose QuantizeLinear/DequantizeLinear take per-axis scales (13). */
    public static final long MIN_OPSET = SETTINGS.setting("opset").orElseThrow().min().longValue();
}
