package dev.squeeze.compress.quant;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * A weight tensor in symmetric int8: {@code w ~ q * scale[channel]}, {@code q} in [-127, 127], zero point 0. The
 * values are in row-major ('c') order of {@code shape}; {@code channelAxis} is the output-channel axis (1 for a
 * dense layer's [nIn, nOut], 0 for a convolution's [outC, inC, kh, kw]). Per-tensor weights have one scale.
 */
public record QuantizedWeights(byte[] values, long[] shape, int channelAxis, float[] scales) {
    public static final int QMAX = 127;

    public QuantizedWeights {
        long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        if (values.length != n) throw new IllegalArgumentException(values.length + " values for shape " + Arrays.toString(shape));
        if (scales.length != 1 && scales.length != shape[channelAxis]) {
            throw new IllegalArgumentException(scales.length + " scales for " + shape[channelAxis] + " channels");
        }
    }

    public Granularity granularity() {
        return scales.length == 1 && shape[channelAxis] != 1 ? Granularity.TENSOR : Granularity.CHANNEL;
    }

    public int channels() {
        return (int) shape[channelAxis];
    }

    /** The scale of output channel {@code c}. */
    public float scale(int c) {
        return scales.length == 1 ? scales[0] : scales[c];
    }

    /** Quantizes {@code w} (any order, views included) with one scale per output channel or per tensor. */
    public static QuantizedWeights quantize(INDArray w, int channelAxis, Granularity granularity) {
        long[] shape = w.shape();
        float[] flat = w.dup('c').castTo(DataType.FLOAT).data().asFloat();
        int channels = (int) shape[channelAxis];
        float[] absMax = new float[granularity == Granularity.TENSOR ? 1 : channels];
        for (int i = 0; i < flat.length; i++) {
            int s = absMax.length == 1 ? 0 : channelOf(i, shape, channelAxis);
            absMax[s] = Math.max(absMax[s], Math.abs(flat[i]));
        }
        float[] scales = new float[absMax.length];
        for (int s = 0; s < scales.length; s++) scales[s] = absMax[s] > 0 ? absMax[s] / QMAX : 1f;
        byte[] q = new byte[flat.length];
        for (int i = 0; i < flat.length; i++) {
            float scale = scales[scales.length == 1 ? 0 : channelOf(i, shape, channelAxis)];
            q[i] = (byte) Math.max(-QMAX, Math.min(QMAX, Math.rint(flat[i] / scale)));
        }
        return new QuantizedWeights(q, shape, channelAxis, scales);
    }

    /** The quantized values as integers held in a float array of {@link #shape} (exact: |q| <= 127). */
    public INDArray integers() {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) f[i] = values[i];
        return Nd4j.create(f, shape, 'c');
    }

    /** The weights the quantized values stand for, {@code q * scale}, as floats of {@link #shape}. */
    public INDArray dequantized() {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) f[i] = values[i] * scales[scales.length == 1 ? 0 : channelOf(i, shape, channelAxis)];
        return Nd4j.create(f, shape, 'c');
    }

    /** The output channel of flat ('c'-order) index {@code i}. */
    static int channelOf(long i, long[] shape, int axis) {
        long inner = 1;
        for (int d = axis + 1; d < shape.length; d++) inner *= shape[d];
        return (int) ((i / inner) % shape[axis]);
    }
}
