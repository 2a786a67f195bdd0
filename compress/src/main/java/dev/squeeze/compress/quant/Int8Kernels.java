package dev.squeeze.compress.quant;

import dev.squeeze.compress.network.ActivationQuant;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Rint;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The arithmetic of int8 inference with ND4J operations only (no CPU-specific calls, so it runs on any backend).
 * Integer values are held in float or double arrays: products of int8 weights and offset uint8 codes are exact, and
 * so is their sum while it stays below 2^24 in float (2^53 in double); {@link Int8Linear} checks that bound and
 * picks the precision. Requantization multiplies in double and rounds half to even.
 */
public final class Int8Kernels {
    /** Integers up to this magnitude are exact in float, and so is every sum of them that stays within it. */
    public static final double FLOAT_EXACT_LIMIT = 1 << 24;

    private Int8Kernels() {
    }

    /**
     * Requantizes int32 accumulators (one column per output channel) to uint8 codes:
     * clamp(rint(acc * multiplier[c]) + zeroPoint, floor, 255), in double, returned as floats.
     *
     * @param multipliers a DOUBLE row vector, inputScale * weightScale[c] / outputScale
     * @param floor       0, or the zero point to apply ReLU in the integer domain
     */
    public static INDArray requantize(INDArray acc, INDArray multipliers, int zeroPoint, int floor) {
        INDArray y = acc.castTo(DataType.DOUBLE).muliRowVector(multipliers);
        Nd4j.exec(new Rint(y, y));
        y.addi(zeroPoint);
        return clamp(y, floor, ActivationQuant.QMAX).castTo(DataType.FLOAT);
    }

    /** Values clamped to [lo, hi], in place. */
    static INDArray clamp(INDArray x, double lo, double hi) {
        Transforms.max(x, lo, false);
        Transforms.min(x, hi, false);
        return x;
    }
}
