package dev.squeeze.compress.onnx;

import dev.squeeze.core.BadInputException;

/**
 * The settings of an export; their hash is recorded with the run.
 *
 * @param source the source model's run id, or its file's absolute path
 * @param opset  the ONNX opset the graph declares
 */
public record ExportParams(String source, long opset) {
    public static final long DEFAULT_OPSET = 17;
    /** The lowest opset whose QuantizeLinear/DequantizeLinear take per-axis scales (13). */
    public static final long MIN_OPSET = 13;
    public static final ExportParams DEFAULTS = new ExportParams(null, DEFAULT_OPSET);

    public ExportParams {
        if (opset < MIN_OPSET || opset > 21) {
            throw new BadInputException("--opset must be between " + MIN_OPSET + " (per-channel int8) and 21, got " + opset);
        }
    }
}
