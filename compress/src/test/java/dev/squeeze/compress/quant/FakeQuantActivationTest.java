package dev.squeeze.compress.quant;

import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.network.WrappedActivation;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FakeQuantActivationTest {

    private static float[] gaussian(Random r, int n, double sd) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float) (sd * r.nextGaussian());
        return f;
    }

    private static float[] values(INDArray a) {
        return a.dup('c').castTo(DataType.FLOAT).data().asFloat();
    }

    /** The reference: ActivationQuant's scalar quantize/dequantize on the base activation's value. */
    private static float expected(ActivationQuant q, float a) {
        return q.dequantize(q.quantize(a));
    }

    private static void assertOnGrid(ActivationQuant q, float v, String what) {
        double level = v / q.scale() + q.zeroPoint();
        assertEquals(Math.rint(level), level, 1e-3, what + " " + v + " is not on the grid of " + q);
        assertTrue(Math.rint(level) >= 0 && Math.rint(level) <= 255, what + " " + v + " outside uint8");
    }

    @Test
    void forwardIsActivationQuantOfReluElementByElement() {
        Random r = new Random(7);
        float[] x = gaussian(r, 60 * 70, 3.0);
        ActivationQuant q = ActivationQuant.fromRange(0, 4.2);   // values above 4.2 saturate
        var fq = new FakeQuantActivation(new ActivationReLU(), q);
        INDArray in = Nd4j.create(x, new long[]{60, 70}, 'c');
        INDArray out = fq.getActivation(in, true);
        assertArrayEquals(new long[]{60, 70}, out.shape());
        float[] got = values(out);
        int saturated = 0;
        for (int i = 0; i < x.length; i++) {
            float a = Math.max(0f, x[i]);
            assertEquals(expected(q, a), got[i], 0f, "element " + i + " (x=" + x[i] + ")");
            assertOnGrid(q, got[i], "element " + i);
            if (a > q.max()) saturated++;
        }
        assertTrue(saturated > 0, "the test should cover saturation");
    }

    @Test
    void forwardWithNonZeroZeroPointClampsBothEnds() {
        Random r = new Random(11);
        float[] x = gaussian(r, 5000, 2.5);
        ActivationQuant q = ActivationQuant.fromRange(-1.7, 3.1);
        assertTrue(q.zeroPoint() > 0);
        var fq = new FakeQuantActivation(new ActivationIdentity(), q);
        float[] got = values(fq.getActivation(Nd4j.create(x, new long[]{50, 100}, 'c'), false));
        int below = 0;
        for (int i = 0; i < x.length; i++) {
            assertEquals(expected(q, x[i]), got[i], 0f, "element " + i + " (x=" + x[i] + ")");
            assertOnGrid(q, got[i], "element " + i);
            if (x[i] < q.min()) below++;
        }
        assertTrue(below > 0, "the test should cover the lower clamp");
    }

    @Test
    void roundsHalfToEven() {
        // scale 0.25: x / scale is exactly 0.5, 1.5, 2.5, 3.5, -> 0, 2, 2, 4 (rounding half up would give 1, 2, 3, 4).
        var q = new ActivationQuant(0.25f, 10);
        var fq = new FakeQuantActivation(new ActivationIdentity(), q);
        float[] got = values(fq.getActivation(Nd4j.createFromArray(0.125f, 0.375f, 0.625f, 0.875f, -0.625f), false));
        assertArrayEquals(new float[]{0f, 0.5f, 0.5f, 1f, -0.5f}, got, 0f);
        for (int i = 0; i < got.length; i++) {
            assertEquals(expected(q, new float[]{0.125f, 0.375f, 0.625f, 0.875f, -0.625f}[i]), got[i], 0f);
        }
    }

    @Test
    void dividesInFloatAsActivationQuantAndOnnxRuntimeDo() {
        // x / scale in float rounds these quotients onto k + 0.5 (and so to the even neighbour); in double they lie
        // just off the half and would round the other way.
        var q = new ActivationQuant(Float.intBitsToFloat(0x3c86ed53), 0);
        int[] bits = {0x3cca63fc, 0x3d28a8a8, 0x3d6c1f51, 0x3db98652, 0x3ddb41a7};
        float[] x = new float[bits.length];
        for (int i = 0; i < bits.length; i++) {
            x[i] = Float.intBitsToFloat(bits[i]);
            assertTrue(Math.rint(x[i] / q.scale()) != Math.rint(x[i] / (double) q.scale()), "case " + i);
        }
        float[] got = values(new FakeQuantActivation(new ActivationIdentity(), q).getActivation(Nd4j.createFromArray(x), false));
        for (int i = 0; i < x.length; i++) assertEquals(expected(q, x[i]), got[i], 0f, "x=" + x[i]);
    }

    @Test
    void forwardWritesIntoItsInputAndHandlesViews() {
        var fq = new FakeQuantActivation(new ActivationReLU(), ActivationQuant.fromRange(0, 2));
        INDArray in = Nd4j.create(gaussian(new Random(3), 24, 1.5), new long[]{4, 6}, 'c');
        INDArray reference = in.dup();
        INDArray out = fq.getActivation(in, true);
        assertSame(in, out, "DL4J's contract: the activation may work in place");

        INDArray base = Nd4j.create(DataType.FLOAT, new long[]{6, 4}, 'f');
        base.assign(reference.transpose());
        INDArray view = base.transpose();   // [4, 6], not 'c'
        fq.getActivation(view, true);
        assertArrayEquals(values(out), values(view), 0f);
    }

    @Test
    void backpropIsReluGradientInsideTheRangeAndZeroOutside() {
        Random r = new Random(5);
        float[] x = gaussian(r, 40 * 50, 2.0);
        float[] eps = gaussian(r, x.length, 1.0);
        ActivationQuant q = ActivationQuant.fromRange(0, 1.5);
        var fq = new FakeQuantActivation(new ActivationReLU(), q);
        INDArray in = Nd4j.create(x, new long[]{40, 50}, 'c');
        INDArray epsilon = Nd4j.create(eps, new long[]{40, 50}, 'c');
        INDArray epsilonBefore = epsilon.dup();
        INDArray dLdz = fq.backprop(in, epsilon).getFirst();
        assertEquals(epsilonBefore, epsilon, "epsilon must not be modified");
        float[] got = values(dLdz);
        int inside = 0;
        int above = 0;
        int below = 0;
        for (int i = 0; i < x.length; i++) {
            float a = Math.max(0f, x[i]);
            boolean in_range = a >= q.min() && a <= q.max();
            float want = in_range && x[i] > 0 ? eps[i] : 0f;
            assertEquals(want, got[i], 0f, "element " + i + " (x=" + x[i] + ")");
            if (x[i] > q.max()) above++;
            else if (x[i] > 0) inside++;
            else below++;
        }
        assertTrue(inside > 100 && above > 100 && below > 100, inside + " inside, " + above + " above, " + below + " below");
        assertTrue(fq.backprop(in, epsilon).getSecond() == null);
    }

    @Test
    void backpropOfIdentityIsClippedBelowAndAbove() {
        ActivationQuant q = ActivationQuant.fromRange(-1, 1);
        var fq = new FakeQuantActivation(new ActivationIdentity(), q);
        INDArray in = Nd4j.createFromArray(-3f, -0.5f, 0f, 0.7f, 2f);
        INDArray eps = Nd4j.createFromArray(1f, 2f, 3f, 4f, 5f);
        assertArrayEquals(new float[]{0f, 2f, 3f, 4f, 0f}, values(fq.backprop(in, eps).getFirst()), 0f);
        assertArrayEquals(new float[]{1f, 2f, 3f, 4f, 5f}, values(eps), 0f);
    }

    @Test
    void accessorsUnwrapAndText() {
        ActivationQuant q = new ActivationQuant(0.05f, 3);
        var fq = new FakeQuantActivation(Activation.RELU, q);
        assertInstanceOf(ActivationReLU.class, fq.base());
        assertEquals(q, fq.quant());
        assertSame(fq.base(), WrappedActivation.unwrap(fq));
        IActivation relu = new ActivationReLU();
        assertSame(relu, WrappedActivation.unwrap(relu));
        assertEquals("fakequant(relu, scale=0.05, zp=3)", fq.toString());
        assertEquals(fq, new FakeQuantActivation(new ActivationReLU(), q));
        assertTrue(!fq.equals(new FakeQuantActivation(new ActivationReLU(), new ActivationQuant(0.05f, 4))));
        assertThrows(IllegalArgumentException.class, () -> new FakeQuantActivation(fq, q));
        assertEquals(new FakeQuantActivation(new ActivationIdentity(), new ActivationQuant(1f, 0)), new FakeQuantActivation());
    }

    private static MultiLayerConfiguration tinyConfiguration(IActivation hidden) {
        return new NeuralNetConfiguration.Builder()
                .seed(42)
                .updater(new Adam(0.01))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(hidden).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
    }

    private static IActivation hiddenActivation(MultiLayerConfiguration conf) {
        return ((BaseLayer) conf.getConf(0).getLayer()).getActivationFn();
    }

    @Test
    void configurationRoundTripsThroughJson() {
        ActivationQuant q = ActivationQuant.fromRange(-0.3, 2.9);
        var fq = new FakeQuantActivation(new ActivationReLU(), q);
        MultiLayerConfiguration conf = tinyConfiguration(fq);
        String json = conf.toJson();
        assertTrue(json.contains(FakeQuantActivation.class.getName()), json);
        MultiLayerConfiguration back = MultiLayerConfiguration.fromJson(json);
        IActivation restored = hiddenActivation(back);
        FakeQuantActivation f = assertInstanceOf(FakeQuantActivation.class, restored);
        assertNotSame(fq, f);
        assertEquals(fq, f);
        assertEquals(q, f.quant());
        assertInstanceOf(ActivationReLU.class, f.base());
        assertEquals(json, back.toJson());
    }

    @Test
    void networkRoundTripsThroughModelSerializer(@TempDir Path dir) throws Exception {
        var fq = new FakeQuantActivation(new ActivationReLU(), ActivationQuant.fromRange(0, 3));
        MultiLayerNetwork net = new MultiLayerNetwork(tinyConfiguration(fq));
        net.init();
        File file = dir.resolve("net.zip").toFile();
        ModelSerializer.writeModel(net, file, true);
        MultiLayerNetwork back = ModelSerializer.restoreMultiLayerNetwork(file, true);
        assertEquals(fq, hiddenActivation(back.getLayerWiseConfigurations()));
        INDArray x = Nd4j.create(gaussian(new Random(9), 40, 1.0), new long[]{10, 4}, 'c');
        assertEquals(net.output(x), back.output(x));
    }

    @Test
    void tinyNetworkTrainsAndItsHiddenActivationsLieOnTheGrid() {
        ActivationQuant q = ActivationQuant.fromRange(0, 3);
        MultiLayerNetwork net = new MultiLayerNetwork(tinyConfiguration(new FakeQuantActivation(new ActivationReLU(), q)));
        net.init();
        Random r = new Random(1);
        int n = 64;
        float[] features = gaussian(r, n * 4, 1.0);
        float[] labels = new float[n * 3];
        for (int i = 0; i < n; i++) {
            float s = features[4 * i] + features[4 * i + 1] - features[4 * i + 2];
            labels[3 * i + (s < -0.5 ? 0 : s < 0.5 ? 1 : 2)] = 1;
        }
        DataSet data = new DataSet(Nd4j.create(features, new long[]{n, 4}, 'c'), Nd4j.create(labels, new long[]{n, 3}, 'c'));
        double first = net.score(data);
        for (int step = 0; step < 30; step++) {
            net.fit(data);
            assertTrue(Double.isFinite(net.score()), "loss at step " + step + ": " + net.score());
        }
        assertTrue(net.score(data) < first, "loss " + first + " -> " + net.score(data));

        List<INDArray> acts = net.feedForward(data.getFeatures(), false);
        float[] hidden = values(acts.get(1));
        int nonZero = 0;
        for (int i = 0; i < hidden.length; i++) {
            assertOnGrid(q, hidden[i], "hidden activation " + i);
            if (hidden[i] != 0) nonZero++;
        }
        assertTrue(nonZero > hidden.length / 10, nonZero + " of " + hidden.length + " hidden activations are non-zero");
    }
}
