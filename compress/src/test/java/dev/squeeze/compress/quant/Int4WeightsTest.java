package dev.squeeze.compress.quant;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Block-wise int4 weights against a plain-Java reference of the scheme, and their packing as ONNX stores INT4. */
class Int4WeightsTest {

    @Test
    void eachBlockOfEachColumnHasItsOwnScaleAndItsLargestWeightMapsToSeven() {
        Random rnd = new Random(5);
        int k = 45, n = 7, blockSize = 16;   // blocks of 16, 16 and 13
        float[] w = new float[k * n];
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() * (1 + i % n));
        for (int r = 16; r < 32; r++) w[r * n + 3] = 0f;   // one block all zero: scale 1, codes 0
        Int4Weights q = Int4Weights.quantize(Nd4j.create(w, new long[]{k, n}, 'c'), blockSize);
        assertEquals(3 * n, q.scales().length);
        for (int c = 0; c < n; c++) {
            for (int b = 0; b < 3; b++) {
                float max = 0;
                for (int r = b * blockSize; r < Math.min(k, (b + 1) * blockSize); r++) max = Math.max(max, Math.abs(w[r * n + c]));
                float scale = max > 0 ? max / 7 : 1f;
                assertEquals(scale, q.scales()[b * n + c], 0f, "block " + b + " column " + c);
                for (int r = b * blockSize; r < Math.min(k, (b + 1) * blockSize); r++) {
                    int want = (int) Math.max(-7, Math.min(7, Math.rint(w[r * n + c] / scale)));
                    assertEquals(want, q.values()[r * n + c], "row " + r + " column " + c);
                    assertTrue(Math.abs(q.values()[r * n + c]) <= 7);
                    if (Math.abs(w[r * n + c]) == max && max > 0) assertEquals(7, Math.abs(q.values()[r * n + c]));
                }
            }
        }
        INDArray dq = q.dequantized();
        for (int r = 0; r < k; r++) {
            for (int c = 0; c < n; c++) {
                assertEquals(q.values()[r * n + c] * q.scale(r, c), dq.getFloat(r, c), 0f);
                assertTrue(Math.abs(dq.getFloat(r, c) - w[r * n + c]) <= q.scale(r, c) / 2 * (1 + 1e-6));
            }
        }
        assertArrayEquals(dq.data().asFloat(), Int4Weights.fakeQuantize(Nd4j.create(w, new long[]{k, n}, 'c'), blockSize)
                .data().asFloat(), "fake quantization is the dequantized int4 weights");
    }

    @Test
    void codesPackTwoToAByteLowNibbleFirstAndUnpackBack() {
        byte[] codes = {-7, 7, 0, -1, 3, -8 + 1, 5};   // an odd count: the last high nibble is 0
        Int4Weights w = new Int4Weights(codes, new long[]{7, 1}, 32, new float[]{0.5f});
        byte[] packed = w.packed();
        assertEquals(4, packed.length);
        assertEquals((byte) 0x79, packed[0], "-7 is 1001 in the low nibble, 7 is 0111 in the high one");
        assertEquals((byte) 0xF0, packed[1]);
        assertEquals((byte) 0x05, packed[3]);
        assertArrayEquals(codes, Int4Weights.unpack(packed, codes.length));
        assertThrows(IllegalArgumentException.class, () -> Int4Weights.unpack(packed, 9));
    }

    @Test
    void aLayerSeesTheDequantizedWeightsAndKeepsItsBiasAndActivationInFloat() {
        Random rnd = new Random(9);
        int k = 40, n = 5;
        float[] w = new float[k * n];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        Int4Weights q = Int4Weights.quantize(Nd4j.create(w, new long[]{k, n}, 'c'), 16);
        INDArray bias = Nd4j.createFromArray(0.5f, -1f, 0f, 2f, 0.25f);
        var layer = new Int4Linear(0, "dense", q, bias, new org.nd4j.linalg.activations.impl.ActivationReLU());
        float[] x = new float[2 * k];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        INDArray out = layer.apply(dev.squeeze.compress.network.Tensor.real(Nd4j.create(x, new long[]{2, k}, 'c'))).values();
        for (int b = 0; b < 2; b++) {
            for (int c = 0; c < n; c++) {
                double sum = bias.getFloat(c);
                for (int r = 0; r < k; r++) sum += (double) x[b * k + r] * (q.values()[r * n + c] * q.scale(r, c));
                assertEquals(Math.max(0, sum), out.getFloat(b, c), 1e-4);
            }
        }
        assertEquals(k * n + n, layer.parameterCount());
    }
}
