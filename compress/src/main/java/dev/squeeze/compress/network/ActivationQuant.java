package dev.squeeze.compress.network;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Rint;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Per-tensor affine uint8 quantization of an activation, as ONNX's QuantizeLinear does it:
 * {@code q = clamp(rint(x / scale) + zeroPoint, 0, 255)}, {@code x ~ (q - zeroPoint) * scale}. Rounding is half to
 * even ({@link Math#rint}), like ONNX.
 */
public record ActivationQuant(float scale, int zeroPoint) {
    public static final int QMIN = 0;
    public static final int QMAX = 255;

    public ActivationQuant {
        if (!(scale > 0) || !Float.isFinite(scale)) throw new IllegalArgumentException("scale must be positive: " + scale);
        if (zeroPoint < QMIN || zeroPoint > QMAX) throw new IllegalArgumentException("zero point outside uint8: " + zeroPoint);
    }

    /**
     * The quantization covering {@code [lo, hi]}, widened to include 0 so that zero (ReLU's floor, padding) is
     * represented exactly. An empty range (all values equal to 0) gets scale 1.
     */
    public static ActivationQuant fromRange(double lo, double hi) {
        if (!Double.isFinite(lo) || !Double.isFinite(hi) || lo > hi) {
            throw new IllegalArgumentException("not a range: [" + lo + ", " + hi + "]");
        }
        double min = Math.min(lo, 0);
        double max = Math.max(hi, 0);
        float scale = (float) ((max - min) / (QMAX - QMIN));
        if (!(scale > 0) || !Float.isFinite(scale)) return new ActivationQuant(1f, clamp(0));
        int zeroPoint = clamp((long) Math.rint(QMIN - min / scale));
        return new ActivationQuant(scale, zeroPoint);
    }

    /** The code of {@code x}; the division is in float, as ONNX Runtime does it. */
    public int quantize(float x) {
        return clamp((long) Math.rint(x / scale) + zeroPoint);
    }

    /** uint8 codes of real values {@code x}: clamp(rint(x / scale) + zeroPoint, 0, 255), as floats, with ND4J ops. */
    public INDArray quantize(INDArray x) {
        INDArray codes = x.castTo(DataType.FLOAT).div(scale);
        Nd4j.exec(new Rint(codes, codes));
        codes.addi(zeroPoint);
        Transforms.max(codes, QMIN, false);
        Transforms.min(codes, QMAX, false);
        return codes;
    }

    public float dequantize(int q) {
        return (q - zeroPoint) * scale;
    }

    /** The smallest and largest real values this quantization represents. */
    public float min() {
        return dequantize(QMIN);
    }

    public float max() {
        return dequantize(QMAX);
    }

    private static int clamp(long q) {
        return (int) Math.max(QMIN, Math.min(QMAX, q));
    }
}
