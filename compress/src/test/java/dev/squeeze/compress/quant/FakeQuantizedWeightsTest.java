package dev.squeeze.compress.quant;

import dev.squeeze.models.zoo.BuildSettings;
import dev.squeeze.models.zoo.LeNet5;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FakeQuantizedWeightsTest {

    private static INDArray gaussian(Random r, double sd, long... shape) {
        long n = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        float[] f = new float[(int) n];
        for (int i = 0; i < f.length; i++) f[i] = (float) (sd * r.nextGaussian());
        return Nd4j.create(f, shape, 'c');
    }

    private static float[] values(INDArray a) {
        return a.dup('c').castTo(DataType.FLOAT).data().asFloat();
    }

    /** Bit for bit, so that -0 and +0 (and any last-bit difference) count as different. */
    private static void assertSameBits(INDArray expected, INDArray actual, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = values(expected);
        float[] a = values(actual);
        for (int i = 0; i < e.length; i++) {
            if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(a[i])) {
                throw new AssertionError(what + ": element " + i + " is " + a[i] + ", expected " + e[i]);
            }
        }
    }

    private static void assertMatchesReference(INDArray w, int axis, Granularity g, String what) {
        INDArray expected = QuantizedWeights.quantize(w, axis, g).dequantized();
        INDArray actual = FakeQuantizedWeights.fakeQuantize(w, axis, g);
        assertEquals(DataType.FLOAT, actual.dataType());
        assertSameBits(expected, actual, what + " " + g);
    }

    @ParameterizedTest
    @EnumSource(Granularity.class)
    void fakeQuantizeEqualsQuantizedWeightsDequantizedForDenseShapes(Granularity g) {
        Random r = new Random(17);
        INDArray w = gaussian(r, 0.2, 30, 20);
        w.get(NDArrayIndex.all(), NDArrayIndex.point(4)).assign(0);     // an all-zero output channel
        w.get(NDArrayIndex.point(3), NDArrayIndex.all()).muli(8);       // a row of outliers
        assertMatchesReference(w, 1, g, "dense");
        assertMatchesReference(gaussian(r, 3.0, 1, 7), 1, g, "one input");
        assertMatchesReference(gaussian(r, 0.05, 9, 1), 1, g, "one output");
        assertMatchesReference(Nd4j.zeros(DataType.FLOAT, 5, 6), 1, g, "all zero");
    }

    @ParameterizedTest
    @EnumSource(Granularity.class)
    void fakeQuantizeEqualsQuantizedWeightsDequantizedForConvolutionShapes(Granularity g) {
        Random r = new Random(23);
        INDArray w = gaussian(r, 0.1, 6, 3, 5, 5);
        w.get(NDArrayIndex.point(2), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()).assign(0);
        assertMatchesReference(w, 0, g, "conv");
        assertMatchesReference(gaussian(r, 1.0, 16, 6, 5, 5), 0, g, "conv 16x6");
        assertMatchesReference(gaussian(r, 1.0, 4, 1, 3, 3), 0, g, "conv one input channel");
    }

    @ParameterizedTest
    @EnumSource(Granularity.class)
    void fakeQuantizeReadsFOrderedViews(Granularity g) {
        Random r = new Random(29);
        INDArray c = gaussian(r, 0.3, 12, 10);
        INDArray f = Nd4j.create(DataType.FLOAT, new long[]{12, 10}, 'f');
        f.assign(c);
        assertEquals('f', f.ordering());
        assertMatchesReference(f, 1, g, "'f' array");
        assertSameBits(FakeQuantizedWeights.fakeQuantize(c, 1, g), FakeQuantizedWeights.fakeQuantize(f, 1, g), "'f' vs 'c'");

        INDArray big = Nd4j.create(DataType.FLOAT, new long[]{20, 15}, 'f');
        big.assign(gaussian(r, 0.3, 20, 15));
        INDArray view = big.get(NDArrayIndex.interval(2, 14), NDArrayIndex.interval(3, 13));   // strided view
        assertMatchesReference(view, 1, g, "view");

        INDArray convF = Nd4j.create(DataType.FLOAT, new long[]{5, 2, 3, 3}, 'f');
        convF.assign(gaussian(r, 0.5, 5, 2, 3, 3));
        assertMatchesReference(convF, 0, g, "'f' conv");
    }

    @Test
    void fakeQuantizeRoundsHalfToEvenAndClamps() {
        // Per tensor, max 127 -> scale 1: w / scale is exact, so the halves show the rounding rule.
        INDArray w = Nd4j.createFromArray(new float[][]{{127f, 0.5f, 1.5f, 2.5f, -2.5f, -0.4f}});
        INDArray fq = FakeQuantizedWeights.fakeQuantize(w, 1, Granularity.TENSOR);
        assertArrayEquals(new float[]{127f, 0f, 2f, 2f, -2f, 0f}, values(fq), 0f);
        assertEquals(0, Float.floatToRawIntBits(values(fq)[5]), "-0.4 rounds to +0, as the int8 reference does");
        assertMatchesReference(w, 1, Granularity.TENSOR, "halves");
        assertThrows(IllegalArgumentException.class, () -> FakeQuantizedWeights.fakeQuantize(w, 2, Granularity.CHANNEL));
    }

    // ------------------------------------------------------------------------------------------ networks

    private static MultiLayerNetwork denseNet(long seed) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(0.02))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    private static MultiLayerNetwork convNet() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(3)
                .updater(new Adam(0.01))
                .weightInit(WeightInit.XAVIER)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder().kernelSize(2, 2).stride(2, 2).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(6, 6, 2))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    @Test
    void channelAxisByLayerType() {
        MultiLayerNetwork dense = denseNet(1);
        assertEquals(1, FakeQuantizedWeights.channelAxis(dense.getLayer(0)));
        assertEquals(1, FakeQuantizedWeights.channelAxis(dense.getLayer(1)));
        MultiLayerNetwork conv = convNet();
        assertEquals(0, FakeQuantizedWeights.channelAxis(conv.getLayer(0)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FakeQuantizedWeights.channelAxis(conv.getLayer(1)));
        assertTrue(e.getMessage().contains("SubsamplingLayer"), e.getMessage());
        assertArrayEquals(new int[]{0, 2}, FakeQuantizedWeights.quantizableLayers(conv));
        assertArrayEquals(new int[]{0, 1}, FakeQuantizedWeights.allLayers(dense, Granularity.CHANNEL).layers());
    }

    @ParameterizedTest
    @EnumSource(Granularity.class)
    void acceptWritesFakeQuantizedWeightsIntoTheNetworkAndLeavesBiases(Granularity g) {
        MultiLayerNetwork net = denseNet(5);
        assertEquals('f', net.getLayer(0).getParam("W").ordering(), "DL4J's dense weights are an 'f' view");
        INDArray w0 = net.getLayer(0).getParam("W").dup();
        INDArray w1 = net.getLayer(1).getParam("W").dup();
        INDArray biases0 = net.getLayer(0).getParam("b").dup();
        INDArray params = net.params();
        var hook = new FakeQuantizedWeights(new int[]{0, 1}, g);
        assertNull(hook.shadow(0));
        hook.accept(net);
        assertSameBits(FakeQuantizedWeights.fakeQuantize(w0, 1, g), net.getLayer(0).getParam("W"), "layer 0");
        assertSameBits(FakeQuantizedWeights.fakeQuantize(w1, 1, g), net.getLayer(1).getParam("W"), "layer 1");
        assertSameBits(FakeQuantizedWeights.fakeQuantize(w0, 1, g), net.getParam("0_W"), "the flattened parameters");
        assertSame(params, net.params(), "the parameter array is written in place, not replaced");
        assertEquals(biases0, net.getLayer(0).getParam("b"));
        assertSameBits(w0, hook.shadow(0), "the first shadow is the float weights");
        assertNotEquals(w0, net.getLayer(0).getParam("W"));
    }

    @ParameterizedTest
    @EnumSource(Granularity.class)
    void acceptQuantizesConvolutionKernelsPerFilter(Granularity g) {
        MultiLayerNetwork net = convNet();
        INDArray w = net.getLayer(0).getParam("W");
        assertEquals(4, w.rank());
        INDArray before = w.dup();
        FakeQuantizedWeights.allLayers(net, g).accept(net);
        assertSameBits(QuantizedWeights.quantize(before, 0, g).dequantized(), net.getLayer(0).getParam("W"), "conv kernel");
    }

    @Test
    void leNet5WeightLayersAreAllQuantizedWithTheirOwnAxes() {
        MultiLayerNetwork net = new MultiLayerNetwork(new LeNet5().configuration(
                new BuildSettings(7, 1e-3, new long[]{1, 28, 28}, 10)));
        net.init();
        int[] layers = FakeQuantizedWeights.quantizableLayers(net);
        assertArrayEquals(new int[]{0, 2, 4, 5, 6}, layers);   // conv, conv, dense, dense, output
        INDArray[] before = new INDArray[net.getnLayers()];
        for (int i : layers) before[i] = net.getLayer(i).getParam("W").dup();
        FakeQuantizedWeights.allLayers(net, Granularity.CHANNEL).accept(net);
        for (int i : layers) {
            int axis = i <= 2 ? 0 : 1;
            assertEquals(axis, FakeQuantizedWeights.channelAxis(net.getLayer(i)));
            assertSameBits(QuantizedWeights.quantize(before[i], axis, Granularity.CHANNEL).dequantized(),
                    net.getLayer(i).getParam("W"), "layer " + i);
        }
    }

    @Test
    void shadowMovesByTheOptimizersUpdateAndWeightsFollowIt() {
        MultiLayerNetwork net = denseNet(8);
        Granularity g = Granularity.CHANNEL;
        var hook = new FakeQuantizedWeights(new int[]{0}, g);
        hook.accept(net);
        INDArray w = net.getLayer(0).getParam("W");
        float[] shadow0 = values(hook.shadow(0));
        float[] fq0 = values(w);
        // A fake optimizer step: small updates, most far below half a quantization step.
        INDArray delta = gaussian(new Random(31), 1e-3, w.shape());
        w.subi(delta);
        float[] wStepped = values(w);
        hook.accept(net);

        float[] shadow1 = values(hook.shadow(0));
        float[] d = values(delta);
        for (int i = 0; i < shadow1.length; i++) {
            float expected = shadow0[i] + (wStepped[i] - fq0[i]);   // the same float operations, in Java
            assertEquals(expected, shadow1[i], 0f, "shadow element " + i);
            assertEquals(-d[i], shadow1[i] - shadow0[i], 1e-6, "shadow element " + i + " moved by the update");
        }
        assertSameBits(FakeQuantizedWeights.fakeQuantize(hook.shadow(0), 1, g), w, "W after the second step");
        // Without the shadow, re-quantizing W itself would snap most of these small steps back; the shadow keeps them.
        int kept = 0;
        for (int i = 0; i < shadow1.length; i++) if (shadow1[i] != shadow0[i]) kept++;
        assertTrue(kept > shadow1.length * 9 / 10, kept + " of " + shadow1.length);
    }

    @Test
    void aDifferentNetworkStartsNewShadows() {
        var hook = new FakeQuantizedWeights(new int[]{0}, Granularity.TENSOR);
        MultiLayerNetwork first = denseNet(1);
        hook.accept(first);
        MultiLayerNetwork second = denseNet(2);
        INDArray w = second.getLayer(0).getParam("W").dup();
        hook.accept(second);
        assertSameBits(w, hook.shadow(0), "the second network's shadow");
        assertSameBits(FakeQuantizedWeights.fakeQuantize(w, 1, Granularity.TENSOR), second.getLayer(0).getParam("W"), "W");
    }

    /** 128 examples of 4 features, 3 classes by a linear score: a task the small dense net learns in 80 steps. */
    private static DataSet threeClasses() {
        Random r = new Random(4);
        int n = 128;
        INDArray x = gaussian(r, 1.0, n, 4);
        float[] labels = new float[n * 3];
        float[] f = values(x);
        for (int i = 0; i < n; i++) {
            float s = f[4 * i] - f[4 * i + 1] + 0.5f * f[4 * i + 3];
            labels[3 * i + (s < -0.4 ? 0 : s < 0.4 ? 1 : 2)] = 1;
        }
        return new DataSet(x, Nd4j.create(labels, new long[]{n, 3}, 'c'));
    }

    @ParameterizedTest
    @EnumSource(Granularity.class)
    void trainingWithTheHookLowersTheLossAndKeepsWeightsOnTheGrid(Granularity g) {
        DataSet data = threeClasses();
        MultiLayerNetwork net = denseNet(12);
        var hook = new FakeQuantizedWeights(new int[]{0, 1}, g);
        hook.accept(net);
        double first = net.score(data);
        for (int step = 0; step < 80; step++) {
            net.fit(data);
            hook.accept(net);
            assertTrue(Double.isFinite(net.score()), "loss at step " + step);
        }
        double last = net.score(data);
        assertTrue(last < 0.7 * first, "loss " + first + " -> " + last);
        for (int layer = 0; layer < 2; layer++) {
            INDArray w = net.getLayer(layer).getParam("W");
            assertSameBits(FakeQuantizedWeights.fakeQuantize(hook.shadow(layer), 1, g), w, "layer " + layer);
            assertOnGrid(w, g);
        }
    }

    /**
     * A pruned network trained with the hook and 3 shared values a layer: its pruned weights stay zero (Adam moves
     * every weight, so without the hook holding them they would grow back), each layer's weights take at most 3
     * non-zero values, and the loss still falls: the shared values themselves are trained.
     */
    @ParameterizedTest
    @EnumSource(Granularity.class)
    void trainingWithSharedValuesKeepsPrunedWeightsAtZero(Granularity g) {
        DataSet data = threeClasses();
        MultiLayerNetwork net = denseNet(12);
        boolean[][] pruned = new boolean[2][];
        for (int layer = 0; layer < 2; layer++) {
            INDArray w = net.getLayer(layer).getParam("W");
            float[] v = values(w);
            pruned[layer] = new boolean[v.length];
            for (int i = 0; i < v.length; i += 2) pruned[layer][i] = true;   // half of each layer, in place
            for (int i = 0; i < v.length; i++) if (pruned[layer][i]) v[i] = 0;
            w.assign(Nd4j.create(v, w.shape(), 'c'));
        }
        var hook = new FakeQuantizedWeights(new int[]{0, 1}, g, new int[0], 0, 3);
        hook.accept(net);
        double first = net.score(data);
        for (int step = 0; step < 80; step++) {
            net.fit(data);
            hook.accept(net);
        }
        double last = net.score(data);
        assertTrue(last < 0.8 * first, "loss " + first + " -> " + last);
        for (int layer = 0; layer < 2; layer++) {
            float[] v = values(net.getLayer(layer).getParam("W"));
            java.util.Set<Float> distinct = new java.util.HashSet<>();
            for (int i = 0; i < v.length; i++) {
                if (pruned[layer][i]) assertEquals(0f, v[i], 0f, "layer " + layer + " weight " + i + " was pruned");
                else if (v[i] != 0) distinct.add(v[i]);
            }
            if (g == Granularity.TENSOR) {   // one scale: 3 values a layer (per channel: 3 codes, scaled per channel)
                assertTrue(distinct.size() <= 3 && distinct.size() > 0, "layer " + layer + ": " + distinct);
            }
        }
    }

    /** Every value is an integer multiple (|q| <= 127) of its channel's (or the tensor's) max|w| / 127. */
    private static void assertOnGrid(INDArray w, Granularity g) {
        float[][] m = w.castTo(DataType.FLOAT).toFloatMatrix();   // [nIn][nOut]
        int channels = m[0].length;
        for (int c = 0; c < channels; c++) {
            double max = 0;
            for (float[] row : m) {
                if (g == Granularity.TENSOR) for (float v : row) max = Math.max(max, Math.abs(v));
                else max = Math.max(max, Math.abs(row[c]));
            }
            double scale = max / 127;
            for (float[] row : m) {
                double q = row[c] / scale;
                assertEquals(Math.rint(q), q, 1e-3, "channel " + c + ": " + row[c] + " is not on the grid of " + scale);
                assertTrue(Math.abs(Math.rint(q)) <= 127);
            }
        }
    }
}
