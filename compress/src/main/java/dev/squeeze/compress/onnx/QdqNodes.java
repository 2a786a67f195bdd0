package dev.squeeze.compress.onnx;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.quant.Float16;

/**
 * The QDQ form that ONNX Runtime fuses into its integer kernels (QGemm, QLinearConv, QLinearMatMul), written into an
 * {@link OnnxGraph}: uint8 activation codes with one scale and zero point per tensor, symmetric int8 weights with one
 * scale per output channel (or one per tensor) and zero points 0, and int32 biases whose scale is input scale × weight
 * scale with zero point 0, so that the integer accumulator and the bias add without rescaling. One writer for both
 * users: the export of Squeeze's own int8 models ({@link OnnxExporter}) and the static quantization of any ONNX file.
 */
public final class QdqNodes {
    private QdqNodes() {
    }

    /** QuantizeLinear of float {@code x} to uint8 codes under {@code q}. */
    public static String quantize(OnnxGraph g, String x, ActivationQuant q) {
        return g.quantizeLinear(x, scale(g, q.scale()), zeroPoint(g, q.zeroPoint()));
    }

    /** DequantizeLinear of uint8 {@code codes} under {@code q}. */
    public static String dequantize(OnnxGraph g, String codes, ActivationQuant q) {
        return g.dequantizeLinear(codes, scale(g, q.scale()), zeroPoint(g, q.zeroPoint()), -1);
    }

    /** {@link #dequantize(OnnxGraph, String, ActivationQuant)} writing {@code output}. */
    public static String dequantize(OnnxGraph g, String codes, ActivationQuant q, String output) {
        return g.dequantizeLinear(codes, scale(g, q.scale()), zeroPoint(g, q.zeroPoint()), -1, output);
    }

    /**
     * A per-channel tensor that follows from others (bias scales, zero points, bias codes that fit in 16 bits) is
     * written as the node that computes it when the values would take more bytes than the node: about this many, a
     * node with its output and name. ONNX Runtime folds such nodes into initializers at load, before its QDQ fusions, so
     * the fused kernels and their outputs are the same; only the file is smaller.
     */
    static final int NODE_BYTES = 64;

    /** An int8 weight's DequantizeLinear output, and the name and values of its scales (one, or one per channel). */
    public record Int8Weight(String dequantized, String scale, float[] scales) {
    }

    /**
     * DequantizeLinear of int8 weight {@code codes} of {@code shape}: one scale per channel along {@code axis} when
     * {@code scales} has several (or the axis has one channel), else one for the tensor; zero points 0, written only
     * when {@code zeroPoints} (ONNX Runtime fuses a Conv's weights into QLinearConv without them, but a Gemm's or
     * MatMul's into QGemm or QLinearMatMul only with them), as ConstantOfShape when that is smaller.
     */
    public static Int8Weight int8Weight(OnnxGraph g, byte[] codes, long[] shape, float[] scales, int axis,
                                        boolean zeroPoints) {
        boolean perChannel = scales.length > 1 || shape[axis] == 1;
        int channels = scales.length;
        String wq = g.int8s(g.fresh("w_int8"), codes, shape);
        String wScale = perChannel ? weightScales(g, scales) : scale(g, scales[0]);
        String wZero = null;
        if (zeroPoints && !perChannel) {
            wZero = g.int8s(g.fresh("w_zero"), new byte[1]);
        } else if (zeroPoints) {
            wZero = channels > 2 * NODE_BYTES ? g.zeros(OnnxMl.TensorProto.DataType.INT8, channels)
                    : g.int8s(g.fresh("w_zero"), new byte[channels], channels);
        }
        return new Int8Weight(g.dequantizeLinear(wq, wScale, wZero, perChannel ? axis : -1), wScale, scales);
    }

    /**
     * Int8 weight {@code codes} of {@code shape} as float weights, {@code codes × scale} with one scale per channel along
     * {@code axis} (or one for the tensor): Cast to float and Mul by the scales, shaped to broadcast along the axis. The
     * same float values as DequantizeLinear's ({@code (float) q × scale}), but ONNX Runtime folds Cast and Mul of
     * constants when it loads the file, where it leaves a DequantizeLinear to run per request: the float layer reading
     * them gets constant weights, which its kernel prepacks and fuses with its activation (a weight-only layer).
     */
    public static String int8WeightAsFloat(OnnxGraph g, byte[] codes, long[] shape, float[] scales, int axis) {
        String wq = g.int8s(g.fresh("w_int8"), codes, shape);
        long[] dims = new long[scales.length == 1 ? 0 : shape.length - axis];
        if (dims.length > 0) {
            java.util.Arrays.fill(dims, 1);
            dims[0] = scales.length;
        }
        return g.mul(g.cast(wq, OnnxMl.TensorProto.DataType.FLOAT), weightScales(g, scales, dims));
    }

    /**
     * Per-channel weight scales: as FLOAT16 and a Cast to float when every scale is a float16 value (Squeeze's
     * quantizer rounds them so, {@link Float16}) and that is smaller, else as floats. The Cast gives the same float32
     * values, which ONNX Runtime folds into an initializer at load.
     */
    private static String weightScales(OnnxGraph g, float[] scales) {
        return weightScales(g, scales, scales.length);
    }

    /** {@link #weightScales(OnnxGraph, float[])} of the given dims (their product the scales' count). */
    private static String weightScales(OnnxGraph g, float[] scales, long... dims) {
        boolean half = Short.BYTES * scales.length > NODE_BYTES;
        for (int c = 0; c < scales.length && half; c++) half = Float16.exact(scales[c]);
        if (!half) return g.floats(g.fresh("w_scale"), scales, dims);
        short[] bits = new short[scales.length];
        for (int c = 0; c < bits.length; c++) bits[c] = Float16.bits(scales[c]);
        return g.cast(g.float16s(g.fresh("w_scale16"), bits, dims), OnnxMl.TensorProto.DataType.FLOAT);
    }

    /**
     * DequantizeLinear of int32 bias {@code codes}, one per output channel, at scale {@code inputScale ×
     * weight.scales[c]} (one weight scale per channel, or one for all), along axis 0; zero points 0, left to the
     * operator's default rather than written (ONNX Runtime fuses the bias into QLinearConv and QGemm either way). With
     * one weight scale the bias scale is one value too; with per-channel weight scales the bias scales are a Mul of
     * the input scale and the weight's scales where that is smaller, and codes that
     * fit in 16 bits are written so and Cast to int32, when those are smaller (float products, so the same values).
     */
    public static String int32Bias(OnnxGraph g, int[] codes, float inputScale, Int8Weight weight) {
        int channels = codes.length;
        float[] weightScales = weight.scales();
        String biasScale;
        if (weightScales.length == 1) {
            biasScale = scale(g, inputScale * weightScales[0]); // as Int8Linear.biasScale
        } else if (Float.BYTES * channels > NODE_BYTES) {
            biasScale = g.mul(scale(g, inputScale), weight.scale());
        } else {
            float[] biasScales = new float[channels];
            for (int c = 0; c < channels; c++) {
                biasScales[c] = inputScale * weightScales[c]; // as Int8Linear.biasScale
            }
            biasScale = g.floats(g.fresh("b_scale"), biasScales, channels);
        }
        String biasCodes;
        if (Short.BYTES * channels > NODE_BYTES && fitsInt16(codes)) {
            short[] narrow = new short[channels];
            for (int c = 0; c < channels; c++) narrow[c] = (short) codes[c];
            biasCodes = g.cast(g.int16s(g.fresh("b_int16"), narrow, channels), OnnxMl.TensorProto.DataType.INT32);
        } else {
            biasCodes = g.int32s(g.fresh("b_int32"), codes, channels);
        }
        return g.dequantizeLinear(biasCodes, biasScale, null, 0);
    }

    private static boolean fitsInt16(int[] codes) {
        for (int c : codes) if (c < Short.MIN_VALUE || c > Short.MAX_VALUE) return false;
        return true;
    }

    /**
     * DequantizeLinear of block-wise int4 weights [K, N] (opset 21): INT4 codes, float scales [ceil(K / blockSize), N],
     * {@code axis=0}, {@code block_size}, no zero point (0). The form ONNX Runtime's DQMatMulToMatMulNBits rule fuses
     * with the MatMul that reads it into MatMulNBits: a constant rank-2 INT4 (or UINT4) weight, float or float16 scales
     * of rank 2, axis 0, a power-of-two block size >= 16, and the DequantizeLinear read by that MatMul alone.
     */
    public static String int4Weight(OnnxGraph g, byte[] packed, long[] shape, float[] scales, int blockSize) {
        long blocks = (shape[0] + blockSize - 1) / blockSize;
        String wq = g.int4s(g.fresh("w_int4"), packed, shape);
        String wScale = g.floats(g.fresh("w_block_scale"), scales, blocks, shape[1]);
        return g.dequantizeLinearBlocked(wq, wScale, 0, blockSize);
    }

    private static String scale(OnnxGraph g, float value) {
        return g.floats(g.fresh("scale"), new float[]{value});
    }

    private static String zeroPoint(OnnxGraph g, int zeroPoint) {
        return g.uint8s(g.fresh("zero_point"), new byte[]{(byte) zeroPoint});
    }
}
