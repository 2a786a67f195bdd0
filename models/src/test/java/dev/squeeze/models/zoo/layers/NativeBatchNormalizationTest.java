package dev.squeeze.models.zoo.layers;

import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.ImageDataset;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.Normalization;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeBatchNormalizationTest {
    private static final List<String> BATCH_NORMS = List.of("conv_bn", "dense_bn");

    /**
     * conv 3x3 - batch norm on its NCHW activations - ReLU - dense - batch norm on the dense activations - softmax,
     * with the batch norms stock or native; the convolution is DL4J's own in both, so only the batch norm differs.
     * The layers before a batch norm have no bias: its gradient is zero up to rounding noise (the batch mean cancels
     * it), which Adam would amplify into updates of either sign, differently for the two implementations.
     * Plain SGD for the same reason: Adam's first steps divide each gradient by its own magnitude, so any gradient
     * entry near zero turns rounding differences into visible ones (DL4J's own layer in float against itself in double
     * differs by 8e-4 after one Adam step at 1e-2, the native one from it by as much; after five SGD steps the native
     * layer is 1.6e-7 from the stock one and both are 9e-7 from double precision).
     */
    private static ComputationGraphConfiguration graph(boolean nativeBn, boolean useLogStd, DataType dataType) {
        return new NeuralNetConfiguration.Builder()
                .seed(12345)
                .dataType(dataType)
                .updater(new Sgd(0.1))
                .weightInit(WeightInit.XAVIER)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.convolutionalFlat(28, 28, 1))
                .addLayer("conv", new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(3, 3).nOut(4)
                        .stride(2, 2).hasBias(false).convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).build(), "in")
                .addLayer("conv_bn", bn(nativeBn).decay(0.8).useLogStd(useLogStd).build(), "conv")
                .addLayer("relu", new ActivationLayer(Activation.RELU), "conv_bn")
                .addLayer("dense", new DenseLayer.Builder().nOut(12).hasBias(false).activation(Activation.IDENTITY).build(), "relu")
                .addLayer("dense_bn", bn(nativeBn).useLogStd(useLogStd).build(), "dense")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).build(), "dense_bn")
                .setOutputs("out")
                .build();
    }

    private static BatchNormalization.Builder bn(boolean nativeBn) {
        return nativeBn ? new NativeBatchNormalization.Builder() : new BatchNormalization.Builder();
    }

    private static ComputationGraph init(ComputationGraphConfiguration conf) {
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        return g;
    }

    /** Consecutive batches of 32 normalised fixture images. */
    private static List<DataSet> batches(int count) {
        ImageDataset data = DatasetLoader.load("fashion-mnist",
                Path.of(System.getProperty("squeeze.fixtures", "src/test/fixtures"), "fashion-mnist"));
        LabeledData train = Normalization.global(data.train()).apply(data.train());
        return java.util.stream.IntStream.range(0, count).mapToObj(i -> train.toDataSet(null, 32 * i, 32 * (i + 1))).toList();
    }

    private static void assertClose(INDArray expected, INDArray actual, double relTol, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        double scale = Math.max(1e-3, expected.amaxNumber().doubleValue());
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= relTol * scale, what + ": max difference " + diff + " (scale " + scale + ")");
    }

    @ParameterizedTest(name = "useLogStd={0}")
    @ValueSource(booleans = {true, false})
    void agreesWithDl4jsBatchNormalizationInTrainingAndInference(boolean useLogStd) {
        ComputationGraph stock = init(graph(false, useLogStd, DataType.FLOAT));
        ComputationGraph nat = init(graph(true, useLogStd, DataType.FLOAT));
        assertEquals(stock.params(), nat.params(), "same seed, same parameter layout and initial values");
        for (String name : BATCH_NORMS) {
            assertInstanceOf(NativeBatchNormalizationLayer.class, nat.getLayer(name));
            assertInstanceOf(NativeBatchNormHelper.class, ((NativeBatchNormalizationLayer) nat.getLayer(name)).getHelper());
        }
        List<DataSet> batches = batches(5);
        INDArray x = batches.get(0).getFeatures();

        // Inference with the initial running statistics, then a training-mode forward pass (batch statistics).
        assertClose(stock.outputSingle(false, x), nat.outputSingle(false, x), 1e-5, "inference output");
        Map<String, INDArray> ffStock = stock.feedForward(x, true);
        Map<String, INDArray> ffNat = nat.feedForward(x, true);
        for (String name : BATCH_NORMS) assertClose(ffStock.get(name), ffNat.get(name), 1e-5, name + " training output");
        for (String name : BATCH_NORMS) {
            assertNotNull(((NativeBatchNormHelper) ((NativeBatchNormalizationLayer) nat.getLayer(name)).getHelper())
                    .getMeanCache(DataType.FLOAT), name + ": the native op computed the training pass");
        }

        // Gradients, including the running-statistics updates DL4J carries as the mean/var "gradients".
        stock.setInputs(x);
        stock.setLabels(batches.get(0).getLabels());
        stock.computeGradientAndScore();
        nat.setInputs(x);
        nat.setLabels(batches.get(0).getLabels());
        nat.computeGradientAndScore();
        assertEquals(stock.score(), nat.score(), 1e-5);
        Gradient gs = stock.gradient();
        Gradient gn = nat.gradient();
        assertEquals(gs.gradientForVariable().keySet(), gn.gradientForVariable().keySet());
        assertTrue(gs.gradientForVariable().containsKey("conv_bn_" + (useLogStd ? "log10stdev" : "var")));
        for (String key : gs.gradientForVariable().keySet()) {
            assertClose(gs.getGradientFor(key), gn.getGradientFor(key), 1e-5, "gradient " + key);
        }

        // A few SGD steps: same parameters, running mean and variance included, and same inference outputs.
        for (DataSet b : batches) {
            stock.fit(b);
            nat.fit(b);
        }
        for (String name : BATCH_NORMS) {
            for (var e : stock.getLayer(name).paramTable().entrySet()) {
                assertClose(e.getValue(), nat.getLayer(name).paramTable().get(e.getKey()), 1e-5, name + " " + e.getKey());
            }
        }
        assertClose(stock.params(), nat.params(), 1e-5, "all parameters after " + batches.size() + " steps");
        INDArray next = batches(6).get(5).getFeatures();
        assertClose(stock.outputSingle(false, next), nat.outputSingle(false, next), 1e-5, "inference after training");
    }

    /** The helper is DL4J's MKLDNNBatchNormHelper with the batch statistics from one moments op: the same bits. */
    @ParameterizedTest
    @EnumSource(CNN2DFormat.class)
    void computesTheSameBitsAsDl4jsOneDnnHelper(CNN2DFormat format) {
        Nd4j.getRandom().setSeed(11);
        long[] shape = format == CNN2DFormat.NCHW ? new long[]{6, 5, 4, 3} : new long[]{6, 4, 3, 5};
        INDArray x = Nd4j.rand(DataType.FLOAT, shape).muli(3).addi(0.5);
        INDArray eps = Nd4j.rand(DataType.FLOAT, shape).subi(0.5);
        INDArray gamma = Nd4j.rand(DataType.FLOAT, 1, 5).addi(0.5);
        INDArray beta = Nd4j.rand(DataType.FLOAT, 1, 5);
        INDArray runMean = Nd4j.rand(DataType.FLOAT, 1, 5);
        INDArray runVar = Nd4j.rand(DataType.FLOAT, 1, 5).addi(0.5);
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        NativeBatchNormHelper ours = new NativeBatchNormHelper();
        MKLDNNBatchNormHelper dl4j = new MKLDNNBatchNormHelper(DataType.FLOAT);
        for (boolean training : new boolean[]{false, true}) {
            INDArray a = dl4j.preOutput(x, training, shape, gamma, beta, runMean, runVar, 0.9, 1e-5, format, ws);
            INDArray b = ours.preOutput(x, training, shape, gamma, beta, runMean, runVar, 0.9, 1e-5, format, ws);
            assertEquals(0, a.sub(b).amaxNumber().doubleValue(), "training=" + training);
        }
        assertEquals(0, dl4j.getMeanCache(DataType.FLOAT).sub(ours.getMeanCache(DataType.FLOAT)).amaxNumber().doubleValue());
        assertEquals(0, dl4j.getVarCache(DataType.FLOAT).sub(ours.getVarCache(DataType.FLOAT)).amaxNumber().doubleValue());
        INDArray dGammaA = Nd4j.create(DataType.FLOAT, 1, 5), dBetaA = Nd4j.create(DataType.FLOAT, 1, 5);
        INDArray dGammaB = Nd4j.create(DataType.FLOAT, 1, 5), dBetaB = Nd4j.create(DataType.FLOAT, 1, 5);
        INDArray epsA = dl4j.backpropGradient(x, eps, shape, gamma, beta, dGammaA, dBetaA, 1e-5, format, ws).getSecond();
        INDArray epsB = ours.backpropGradient(x, eps, shape, gamma, beta, dGammaB, dBetaB, 1e-5, format, ws).getSecond();
        assertEquals(0, epsA.sub(epsB).amaxNumber().doubleValue());
        assertEquals(0, dGammaA.sub(dGammaB).amaxNumber().doubleValue());
        assertEquals(0, dBetaA.sub(dBetaB).amaxNumber().doubleValue());
        assertTrue(dGammaB.amaxNumber().doubleValue() > 0, "the gradient views were written");
    }

    @Test
    void doublePrecisionAndFixedGammaBetaComputeWithDl4jsOwnPath() {
        ComputationGraph stock = init(graph(false, true, DataType.DOUBLE));
        ComputationGraph nat = init(graph(true, true, DataType.DOUBLE));
        DataSet b = batches(1).get(0);
        b = new DataSet(b.getFeatures().castTo(DataType.DOUBLE), b.getLabels().castTo(DataType.DOUBLE));
        stock.fit(b);
        nat.fit(b);
        assertEquals(stock.params(), nat.params(), "the helper declines double precision: DL4J's path, bit for bit");
        assertNull(((NativeBatchNormHelper) ((NativeBatchNormalizationLayer) nat.getLayer("conv_bn")).getHelper())
                .getMeanCache(DataType.DOUBLE));

        NativeBatchNormalization locked = (NativeBatchNormalization) new NativeBatchNormalization.Builder()
                .lockGammaBeta(true).nOut(3).build();
        ComputationGraph g = init(new NeuralNetConfiguration.Builder().graphBuilder().addInputs("in")
                .setInputTypes(InputType.feedForward(3)).addLayer("bn", locked, "in")
                .addLayer("out", new OutputLayer.Builder().nOut(2).activation(Activation.SOFTMAX).build(), "bn")
                .setOutputs("out").build());
        assertNull(((NativeBatchNormalizationLayer) g.getLayer("bn")).getHelper(), "oneDNN's helper has no fixed gamma/beta");
    }

    @Test
    void isABatchNormalizationForJsonCloneAndWidthChanges() throws Exception {
        // useLogStd true (DL4J's default): DL4J's fromJson turns a batch norm's useLogStd=false into true, for its
        // own layer as well (1.0.0-M2.1), so a round trip of false cannot be asserted.
        ComputationGraphConfiguration conf = graph(true, true, DataType.FLOAT);
        String json = conf.toJson();
        assertTrue(json.contains(NativeBatchNormalization.class.getName()), json);
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(json);
        assertEquals(json, back.toJson());
        var layer = ((LayerVertex) back.getVertices().get("conv_bn")).getLayerConf().getLayer();
        NativeBatchNormalization bn = assertInstanceOf(NativeBatchNormalization.class, layer);
        assertEquals(0.8, bn.getDecay());
        assertTrue(bn.isUseLogStd());
        assertEquals(4, bn.getNOut());
        assertNotEquals(conf, graph(false, true, DataType.FLOAT), "a native layer is not a stock one");

        NativeBatchNormalization copy = bn.clone();
        assertInstanceOf(NativeBatchNormalization.class, copy);
        assertEquals(bn, copy);
        copy.setNIn(2);
        copy.setNOut(2);
        assertEquals(2, copy.getNOut());
        assertEquals(4, bn.getNOut(), "the clone is independent");
        assertNotEquals(bn, copy);

        BatchNormalization stock = new BatchNormalization.Builder().decay(0.7).eps(1e-3).useLogStd(false).nOut(5).name("x").build();
        NativeBatchNormalization converted = NativeBatchNormalization.of(stock);
        var mapper = NeuralNetConfiguration.mapper();
        assertEquals(mapper.writeValueAsString(stock).replace(BatchNormalization.class.getName(),
                NativeBatchNormalization.class.getName()), mapper.writeValueAsString(converted), "every setting carried over");
    }
}
