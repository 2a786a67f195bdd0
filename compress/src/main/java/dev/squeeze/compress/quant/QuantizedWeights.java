package dev.squeeze.compress.quant;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Rint;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Arrays;
import java.util.stream.IntStream;

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
        Codes c = codes(w, channelAxis, granularity);
        float[] codes = c.codes().data().asFloat();
        byte[] q = new byte[codes.length];
        for (int i = 0; i < q.length; i++) q[i] = (byte) codes[i];
        return new QuantizedWeights(q, w.shape(), channelAxis, c.scales().dup().data().asFloat());
    }

    /**
     * Integer codes (as a new 'c'-ordered float array of {@code w}'s shape) and their scales ([channels], or [1]
     * per tensor), computed with ND4J operations so that quantization-aware training runs it on any backend:
     * {@code scale = max|w| / 127} (1 where that is 0) rounded to the nearest float16 value ({@link Float16}: an ONNX
     * file stores it in 2 bytes, and the codes are computed with the scale as stored),
     * {@code q = clamp(rint(w / scale), -127, 127)}.
     */
    static Codes codes(INDArray w, int channelAxis, Granularity granularity) {
        if (channelAxis < 0 || channelAxis >= w.rank()) {
            throw new IllegalArgumentException("channel axis " + channelAxis + " outside a weight tensor of shape "
                    + Arrays.toString(w.shape()));
        }
        INDArray x = w.castTo(DataType.FLOAT).dup('c');
        if (granularity == Granularity.TENSOR) {
            float absMax = x.amaxNumber().floatValue();
            float scale = absMax > 0 ? Float16.round(absMax / QMAX) : 1f;
            x.divi(scale);
            roundAndClamp(x);
            return new Codes(x, Nd4j.createFromArray(scale), -1);
        }
        int[] others = IntStream.range(0, w.rank()).filter(d -> d != channelAxis).toArray();
        INDArray absMax = x.amax(others);                                        // [channels]
        INDArray scales = Nd4j.createFromArray(Float16.round(absMax.div(QMAX).addi(absMax.eq(0).castTo(DataType.FLOAT))
                .toFloatVector()));
        Broadcast.div(x, scales, x, channelAxis);
        roundAndClamp(x);
        return new Codes(x, scales, channelAxis);
    }

    /** @param channelAxis the axis the scales run along, or -1 for one scale */
    record Codes(INDArray codes, INDArray scales, int channelAxis) {
        /** {@code q * scale}, in place. */
        INDArray dequantizeInPlace() {
            if (channelAxis < 0) return codes.muli(scales.getFloat(0));
            return Broadcast.mul(codes, scales, codes, channelAxis);
        }
    }

    /** In place: rint (half to even), clamp to [-127, 127], and -0 made +0 (the byte keeps no sign of zero). */
    private static void roundAndClamp(INDArray x) {
        Nd4j.exec(new Rint(x, x));
        Transforms.max(x, -QMAX, false);
        Transforms.min(x, QMAX, false);
        x.addi(0.0);
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
