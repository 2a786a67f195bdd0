package dev.squeeze.compress.quant;

import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.network.Geometry;
import dev.squeeze.compress.network.Tensor;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ND4J int8 layers against a plain-Java integer reference (int8 x uint8 products summed in long, requantized in
 * double with Math.rint), bit for bit.
 */
class Int8LinearReferenceTest {

    @Test
    void denseLayerMatchesTheIntegerReferenceBitForBit() {
        Random rnd = new Random(7);
        int batch = 13, nIn = 784, nOut = 37;
        byte[] w = randomWeights(rnd, nIn * nOut);
        float[] scales = randomScales(rnd, nOut);
        int[] bias = randomBias(rnd, nOut);
        ActivationQuant in = new ActivationQuant(0.0213f, 37);
        ActivationQuant out = new ActivationQuant(0.0871f, 12);
        int[][] x = randomCodes(rnd, batch, nIn);
        for (boolean relu : new boolean[]{true, false}) {
            var layer = new Int8Linear(0, "dense", new Geometry.Dense(),
                    new QuantizedWeights(w, new long[]{nIn, nOut}, 1, scales), bias, in, out, relu, null);
            float[] got = layer.apply(new Tensor(codes(x, new long[]{batch, nIn}), in)).values().dup('c').data().asFloat();
            int[] want = new int[batch * nOut];
            for (int n = 0; n < batch; n++) {
                for (int c = 0; c < nOut; c++) {
                    long acc = bias[c];
                    for (int k = 0; k < nIn; k++) acc += (long) (x[n][k] - in.zeroPoint()) * w[k * nOut + c];
                    want[n * nOut + c] = requantize(acc, in.scale() * scales[c], out, relu);
                }
            }
            assertArrayEquals(want, toInts(got), "relu=" + relu);
        }
    }

    @Test
    void convolutionMatchesTheIntegerReferenceBitForBit() {
        Random rnd = new Random(11);
        int batch = 3, inC = 4, outC = 6, h = 9, w = 8, k = 3;
        for (boolean same : new boolean[]{true, false}) {
            var g = new Geometry.Conv(k, k, same ? 1 : 2, same ? 1 : 2, same ? 0 : 1, same ? 0 : 1, same, inC, outC, h, w);
            byte[] wq = randomWeights(rnd, outC * inC * k * k);
            float[] scales = randomScales(rnd, outC);
            int[] bias = randomBias(rnd, outC);
            ActivationQuant in = new ActivationQuant(0.05f, 128);
            ActivationQuant out = new ActivationQuant(0.11f, 3);
            int[][] x = randomCodes(rnd, batch, inC * h * w);
            var layer = new Int8Linear(0, "conv", g, new QuantizedWeights(wq, new long[]{outC, inC, k, k}, 0, scales),
                    bias, in, out, true, null);
            INDArray input = codes(x, new long[]{batch, inC, h, w});
            float[] got = layer.apply(new Tensor(input, in)).values().dup('c').data().asFloat();

            int oh = g.outH(), ow = g.outW();
            // Padding as DL4J's Same mode (top/left: the total split with the extra row/column at the bottom/right).
            int padH = same ? Math.max(0, ((oh - 1) + k - h) / 2) : g.padH();
            int padW = same ? Math.max(0, ((ow - 1) + k - w) / 2) : g.padW();
            int[] want = new int[batch * outC * oh * ow];
            for (int n = 0; n < batch; n++) {
                for (int c = 0; c < outC; c++) {
                    for (int y = 0; y < oh; y++) {
                        for (int xx = 0; xx < ow; xx++) {
                            long acc = bias[c];
                            for (int ci = 0; ci < inC; ci++) {
                                for (int ky = 0; ky < k; ky++) {
                                    for (int kx = 0; kx < k; kx++) {
                                        int iy = y * g.strideH() - padH + ky, ix = xx * g.strideW() - padW + kx;
                                        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;   // a real zero
                                        int code = x[n][(ci * h + iy) * w + ix];
                                        acc += (long) (code - in.zeroPoint()) * wq[((c * inC + ci) * k + ky) * k + kx];
                                    }
                                }
                            }
                            want[((n * outC + c) * oh + y) * ow + xx] = requantize(acc, in.scale() * scales[c], out, true);
                        }
                    }
                }
            }
            assertArrayEquals(want, toInts(got), "same=" + same);
        }
    }

    @Test
    void theOutputLayerScalesAccumulatorsBackToLogits() {
        Random rnd = new Random(3);
        int nIn = 50, nOut = 10;
        byte[] w = randomWeights(rnd, nIn * nOut);
        float[] scales = randomScales(rnd, nOut);
        int[] bias = randomBias(rnd, nOut);
        ActivationQuant in = new ActivationQuant(0.02f, 0);
        int[][] x = randomCodes(rnd, 2, nIn);
        var layer = new Int8Linear(6, "output", new Geometry.Dense(), new QuantizedWeights(w, new long[]{nIn, nOut}, 1, scales),
                bias, in, null, false, new ActivationSoftmax());
        Tensor out = layer.apply(new Tensor(codes(x, new long[]{2, nIn}), in));
        assertFalse(out.isQuantized());
        double[] logits = new double[nOut];
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int c = 0; c < nOut; c++) {
            long acc = bias[c];
            for (int k = 0; k < nIn; k++) acc += (long) (x[0][k] - in.zeroPoint()) * w[k * nOut + c];
            logits[c] = (float) (acc * (double) (in.scale() * scales[c]));
            max = Math.max(max, logits[c]);
        }
        for (int c = 0; c < nOut; c++) sum += Math.exp(logits[c] - max);
        for (int c = 0; c < nOut; c++) {
            assertEquals(Math.exp(logits[c] - max) / sum, out.values().getDouble(0, c), 1e-6);
        }
    }

    @Test
    void aLayerWhoseSumsCouldPass2To24AccumulatesInDouble() {
        int nIn = 2000;
        byte[] w = new byte[nIn];
        java.util.Arrays.fill(w, (byte) 127);
        ActivationQuant in = new ActivationQuant(1f, 0);
        var layer = new Int8Linear(0, "wide", new Geometry.Dense(), new QuantizedWeights(w, new long[]{nIn, 1}, 1,
                new float[]{1f}), new int[]{0}, in, null, false, new org.nd4j.linalg.activations.impl.ActivationIdentity());
        assertEquals(2000.0 * 127 * 255, layer.accumulatorBound());
        assertFalse(layer.accumulatesInFloat());
        int[][] x = new int[1][nIn];
        for (int i = 0; i < nIn; i++) x[0][i] = 255 - (i % 2);   // sum 64,644,000: not a float
        long exact = 0;
        for (int i = 0; i < nIn; i++) exact += 127L * x[0][i];
        float got = layer.apply(new Tensor(codes(x, new long[]{1, nIn}), in)).values().getFloat(0, 0);
        assertEquals((float) exact, got);
        assertTrue(new Int8Linear(0, "narrow", new Geometry.Dense(), new QuantizedWeights(new byte[]{1, 2}, new long[]{2, 1}, 1,
                new float[]{1f}), new int[]{0}, in, null, false, new org.nd4j.linalg.activations.impl.ActivationIdentity())
                .accumulatesInFloat());
    }

    static int requantize(long acc, float accumulatorScale, ActivationQuant out, boolean relu) {
        double m = (double) accumulatorScale / out.scale();
        long q = (long) Math.rint(acc * m) + out.zeroPoint();
        int floor = relu ? out.zeroPoint() : 0;
        return (int) Math.max(floor, Math.min(255, q));
    }

    private static byte[] randomWeights(Random rnd, int n) {
        byte[] w = new byte[n];
        for (int i = 0; i < n; i++) w[i] = (byte) (rnd.nextInt(255) - 127);
        return w;
    }

    private static float[] randomScales(Random rnd, int n) {
        float[] s = new float[n];
        for (int i = 0; i < n; i++) s[i] = 0.001f + rnd.nextFloat() * 0.01f;
        return s;
    }

    private static int[] randomBias(Random rnd, int n) {
        int[] b = new int[n];
        for (int i = 0; i < n; i++) b[i] = rnd.nextInt(20_001) - 10_000;
        return b;
    }

    private static int[][] randomCodes(Random rnd, int rows, int cols) {
        int[][] x = new int[rows][cols];
        for (int[] r : x) for (int i = 0; i < cols; i++) r[i] = rnd.nextInt(256);
        return x;
    }

    private static INDArray codes(int[][] x, long[] shape) {
        float[] flat = new float[x.length * x[0].length];
        for (int n = 0; n < x.length; n++) for (int i = 0; i < x[n].length; i++) flat[n * x[n].length + i] = x[n][i];
        return Nd4j.create(flat, shape, 'c');
    }

    private static int[] toInts(float[] f) {
        int[] out = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            assertEquals(Math.rint(f[i]), f[i], 0.0, "codes are integers");
            out[i] = (int) f[i];
        }
        return out;
    }
}
