package dev.squeeze.compress.quant;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Rint;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Arrays;

/**
 * A dense layer's weights in block-wise symmetric int4: {@code w[k][n] ~ q[k][n] * scale[k / blockSize][n]}, {@code q}
 * in [-7, 7], zero point 0. The weights are DL4J's [nIn, nOut] ([K, N]), values in row-major order; each output column
 * is cut along its K inputs into blocks of {@code blockSize} (the last one shorter when K is not a multiple), and each
 * block has one float scale, {@code max|w| / 7} (1 where that is 0). The scales are held [blocks, N] in row-major
 * order: exactly the tensors ONNX's DequantizeLinear takes with {@code axis=0, block_size=blockSize}.
 *
 * <p>Why [-7, 7] and not [-8, 7]: the grid is the same for positive and negative weights, so the largest weight of
 * either sign is represented exactly and the scale stays positive (as int8 leaves -128 unused); the cost is one of 16
 * levels, a step of max/7 instead of max/8.
 */
public record Int4Weights(byte[] values, long[] shape, int blockSize, float[] scales) {
    public static final int QMAX = 7;

    public Int4Weights {
        if (shape.length != 2) throw new IllegalArgumentException("int4 weights are [K, N], got " + Arrays.toString(shape));
        if (values.length != shape[0] * shape[1]) {
            throw new IllegalArgumentException(values.length + " values for shape " + Arrays.toString(shape));
        }
        if (blockSize < 1) throw new IllegalArgumentException("block size " + blockSize);
        if (scales.length != blocks(shape[0], blockSize) * shape[1]) {
            throw new IllegalArgumentException(scales.length + " scales for " + blocks(shape[0], blockSize) + " blocks of "
                    + shape[1] + " columns");
        }
    }

    /** The number of blocks along K: ceil(K / blockSize). */
    public static int blocks(long k, int blockSize) {
        return (int) ((k + blockSize - 1) / blockSize);
    }

    public int inputs() {
        return (int) shape[0];
    }

    public int outputs() {
        return (int) shape[1];
    }

    /** Quantizes dense weights [K, N] (any order, views included). */
    public static Int4Weights quantize(INDArray w, int blockSize) {
        Codes c = codes(w, blockSize);
        float[] codes = c.codes().data().asFloat();
        byte[] q = new byte[codes.length];
        for (int i = 0; i < q.length; i++) q[i] = (byte) codes[i];
        return new Int4Weights(q, w.shape(), blockSize, c.scales().dup('c').data().asFloat());
    }

    /**
     * The weights block-wise fake-quantized, {@code q * scale}, as a new 'c'-ordered float array of {@code w}'s shape:
     * equal bit for bit to {@code quantize(w, blockSize).dequantized()}. Made of ND4J operations, so that
     * quantization-aware training runs it on any backend.
     */
    public static INDArray fakeQuantize(INDArray w, int blockSize) {
        return codes(w, blockSize).dequantizeInPlace();
    }

    /**
     * Integer codes (a new 'c'-ordered float array of {@code w}'s shape) and their scales ([blocks, N]):
     * {@code scale = max|w| / 7} over each block (1 where that is 0), {@code q = clamp(rint(w / scale), -7, 7)}.
     */
    static Codes codes(INDArray w, int blockSize) {
        if (w.rank() != 2) throw new IllegalArgumentException("int4 weights are [K, N], got " + Arrays.toString(w.shape()));
        long k = w.size(0);
        long n = w.size(1);
        int blocks = blocks(k, blockSize);
        INDArray padded = Nd4j.zeros(DataType.FLOAT, (long) blocks * blockSize, n);   // zeros never raise a maximum
        padded.get(NDArrayIndex.interval(0, k), NDArrayIndex.all()).assign(w.castTo(DataType.FLOAT));
        INDArray byBlock = padded.reshape('c', blocks, blockSize, n);
        INDArray absMax = byBlock.amax(1);                                            // [blocks, N]
        INDArray scales = absMax.div(QMAX).addi(absMax.eq(0).castTo(DataType.FLOAT));
        Broadcast.div(byBlock, scales, byBlock, 0, 2);
        Nd4j.exec(new Rint(byBlock, byBlock));
        Transforms.max(byBlock, -QMAX, false);
        Transforms.min(byBlock, QMAX, false);
        byBlock.addi(0.0);   // -0 made +0: the stored nibble keeps no sign of zero
        INDArray codes = byBlock.reshape('c', (long) blocks * blockSize, n)
                .get(NDArrayIndex.interval(0, k), NDArrayIndex.all()).dup('c');
        return new Codes(codes, scales, blockSize);
    }

    /** Codes [K, N] and their scales [blocks, N]. */
    record Codes(INDArray codes, INDArray scales, int blockSize) {
        /** {@code q * scale}, in place. */
        INDArray dequantizeInPlace() {
            INDArray perRow = scales.repeat(0, blockSize)
                    .get(NDArrayIndex.interval(0, codes.size(0)), NDArrayIndex.all());
            return codes.muli(perRow);
        }
    }

    /** The scale of weight [k][n]. */
    public float scale(int k, int n) {
        return scales[(k / blockSize) * outputs() + n];
    }

    /**
     * The weights the codes stand for, {@code q * scale} in float: what ONNX's DequantizeLinear computes from the
     * same tensors, as a [K, N] float array.
     */
    public INDArray dequantized() {
        int n = outputs();
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) f[i] = values[i] * scales[(i / n / blockSize) * n + i % n];
        return Nd4j.create(f, shape, 'c');
    }

    /**
     * The codes packed two to a byte as ONNX stores INT4 tensors: element 2i in the low nibble, 2i+1 in the high one
     * (two's complement), the last high nibble 0 for an odd count.
     */
    public byte[] packed() {
        byte[] out = new byte[(values.length + 1) / 2];
        for (int i = 0; i < values.length; i++) {
            int nibble = values[i] & 0x0F;
            out[i / 2] |= (byte) (i % 2 == 0 ? nibble : nibble << 4);
        }
        return out;
    }

    /** The {@code count} signed codes of {@link #packed()} bytes. */
    public static byte[] unpack(byte[] packed, int count) {
        if (packed.length != (count + 1) / 2) {
            throw new IllegalArgumentException(packed.length + " bytes for " + count + " int4 values");
        }
        byte[] out = new byte[count];
        for (int i = 0; i < count; i++) {
            int nibble = (i % 2 == 0 ? packed[i / 2] : packed[i / 2] >> 4) & 0x0F;
            out[i] = (byte) (nibble >= 8 ? nibble - 16 : nibble);
        }
        return out;
    }
}
