package dev.squeeze.compress.onnx;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.network.Dl4jLayers;
import dev.squeeze.compress.network.Step;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.compress.quant.Calibration;
import dev.squeeze.compress.quant.CalibrationStatistics;
import dev.squeeze.compress.quant.Granularity;
import dev.squeeze.compress.quant.Int8Linear;
import dev.squeeze.compress.quant.NetworkQuantizer;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.zoo.BuildSettings;
import dev.squeeze.models.zoo.ModelZoo;
import dev.squeeze.models.zoo.Network;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The zoo's residual graph, trained briefly on the Fashion-MNIST fixtures (so its batch norms hold real running
 * statistics), read into steps and exported: float against DL4J's graph in ONNX Runtime, int8 against the ND4J int8
 * network.
 */
class GraphExportParityTest {
    private static TrainingData images;
    private static LabeledData rawImages;
    private static ComputationGraph resnet;

    @TempDir
    Path tmp;

    @BeforeAll
    static void train() {
        images = Fixtures.fashionMnist();
        rawImages = DatasetLoader.load("fashion-mnist", Fixtures.fashionMnistDir()).test();
        Network net = ModelZoo.get("resnet-tiny").build(new BuildSettings(5, 1e-2, images.inputShape(), 10));
        for (int epoch = 0; epoch < 2; epoch++) {
            for (int from = 0; from < images.train().size(); from += 50) {
                net.fit(images.train().toDataSet(null, from, Math.min(images.train().size(), from + 50)));
            }
        }
        resnet = ((Network.Graph) net).graph();
    }

    private static byte[] onnx(StepNetwork net, TrainingData data) {
        return OnnxExporter.graph(net, data == null ? null : data.normalization(), "test")
                .model(8, 17, "test", "", Map.of()).toByteArray();
    }

    private static float[][] ort(byte[] model, long[] inputShape, LabeledData raw, Path optimized) {
        try (var ort = new OnnxRuntimeModel(model, inputShape, 1, optimized)) {
            return ort.runAll(OnnxExporter.PROBABILITIES, raw);
        }
    }

    private static double maxDifference(float[][] a, float[][] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[i].length; j++) max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
        return max;
    }

    @Test
    void theStepsHoldOneResidualBlockPerStageWithTheBatchNormsFolded() {
        StepNetwork f = Dl4jLayers.toFloatNetwork(resnet, images.inputShape());
        List<Step> blocks = f.steps().stream().filter(s -> s instanceof Step.Residual).toList();
        assertEquals(3, blocks.size(), f.steps().toString());
        Step.Residual first = (Step.Residual) blocks.get(0);
        assertTrue(first.shortcut().isEmpty(), "stage 1 keeps its width: identity shortcut");
        assertEquals(1, ((Step.Residual) blocks.get(1)).shortcut().size(), "stage 2's projection, its batch norm folded");
        assertEquals("relu", first.activation().toString());
        // stem, 2 per block, 2 projections, output: 10 layers; the 9 batch norms and 7 ReLUs are folded or merged.
        assertEquals(10, f.linearSteps().size());
        assertInstanceOf(Step.GlobalPooling.class, f.steps().get(f.steps().size() - 2));
        assertEquals(1 + 9 + 3, f.calibrationPointCount(), "the input, 9 hidden layers, 3 adds");

        INDArray x = images.test().toDataSet(null, 0, 200).getFeatures();
        INDArray want = resnet.outputSingle(false, x);
        INDArray got = f.probabilities(x);
        assertTrue(want.sub(got).amaxNumber().doubleValue() <= 1e-5, "ND4J steps vs DL4J: " + want.sub(got).amaxNumber());
    }

    @Test
    void floatExportMatchesTheGraphOnFashionMnist() {
        StepNetwork f = Dl4jLayers.toFloatNetwork(resnet, images.inputShape());
        float[][] dl4j = resnet.outputSingle(false, images.test().toDataSet().getFeatures()).toFloatMatrix();
        float[][] got = ort(onnx(f, images), images.inputShape(), rawImages, null);
        for (int i = 0; i < got.length; i++) {
            assertEquals(Evaluator.argmax(dl4j[i]), Evaluator.argmax(got[i]), "top-1 of example " + i);
        }
        double max = maxDifference(got, dl4j);
        assertTrue(max <= 1e-4, "float max |difference| " + max);
    }

    @Test
    void floatExportMatchesOnColourImagesWithProjectionsEverywhere() {
        long[] shape = {3, 32, 32};
        Network net = ModelZoo.get("resnet-tiny").build(new BuildSettings(9, 3e-3, shape, 4));
        INDArray x = Nd4j.rand(DataType.FLOAT, 64, 3 * 32 * 32);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 64, 4);
        for (int i = 0; i < 64; i++) y.putScalar(i, i % 4, 1);
        for (int i = 0; i < 5; i++) net.fit(new DataSet(x, y));   // moves the batch norms' running statistics
        ComputationGraph graph = ((Network.Graph) net).graph();
        StepNetwork f = Dl4jLayers.toFloatNetwork(graph, shape);
        INDArray test = Nd4j.rand(DataType.FLOAT, 50, 3 * 32 * 32);
        float[][] dl4j = graph.outputSingle(false, test).toFloatMatrix();
        LabeledData raw = new LabeledData(test.dup('c').data().asFloat(), new int[50], 3 * 32 * 32, 4);
        float[][] got = ort(onnx(f, null), shape, raw, null);
        double max = maxDifference(got, dl4j);
        assertTrue(max <= 1e-4, "float max |difference| " + max);
        for (int i = 0; i < got.length; i++) assertEquals(Evaluator.argmax(dl4j[i]), Evaluator.argmax(got[i]), "top-1 " + i);
    }

    @Test
    void int8AgreesWithOnnxRuntimeAndKeepsTheFloatAccuracy() throws Exception {
        StepNetwork f = Dl4jLayers.toFloatNetwork(resnet, images.inputShape());
        var stats = CalibrationStatistics.collect(f, images.train().head(500));
        double floatAcc = Evaluator.evaluate(f, images.test(), images.classNames()).accuracy();
        assertTrue(floatAcc > 0.5, "trained: " + floatAcc);
        for (Granularity granularity : Granularity.values()) {
            StepNetwork q = NetworkQuantizer.quantize(f, stats.quantizations(Calibration.PERCENTILE, 99.99), granularity, Set.of());
            assertTrue(q.linearSteps().stream().allMatch(s -> s instanceof Int8Linear));
            assertTrue(q.flattened().stream().allMatch(s -> !(s instanceof Step.Residual r) || r.output() != null),
                    "every add is int8");
            float[][] nd4j = Evaluator.probabilities(q, images.test());
            Path optimized = tmp.resolve("optimized-" + granularity.label() + ".onnx");
            float[][] ort = ort(onnx(q, images), images.inputShape(), rawImages, optimized);
            int agree = 0;
            for (int i = 0; i < ort.length; i++) if (Evaluator.argmax(ort[i]) == Evaluator.argmax(nd4j[i])) agree++;
            double max = maxDifference(ort, nd4j);
            double int8Acc = Evaluator.evaluate(q, images.test(), images.classNames()).accuracy();
            Set<String> ops = new TreeSet<>();
            for (var n : OnnxMl.ModelProto.parseFrom(Files.readAllBytes(optimized)).getGraph().getNodeList()) ops.add(n.getOpType());
            System.out.printf("resnet-tiny int8 %s: agreement %d/%d, max |dprob| %.5f, float %.4f int8 %.4f; ORT ops %s%n",
                    granularity.label(), agree, ort.length, max, floatAcc, int8Acc, ops);
            assertTrue(agree >= 0.995 * ort.length, granularity + ": top-1 agreement " + agree + "/" + ort.length);
            assertTrue(max <= 0.05, granularity + ": max |difference of probabilities| " + max);
            assertTrue(Math.abs(floatAcc - int8Acc) <= 0.02, granularity + ": float " + floatAcc + " int8 " + int8Acc);
            assertTrue(ops.contains("QLinearConv") && ops.contains("QLinearAdd") && ops.contains("QGemm"), ops.toString());
            assertTrue(!ops.contains("Conv") && !ops.contains("Add"), "no float convolution or add is left: " + ops);
        }
    }

    @Test
    void globalMaxPoolingAndAnIdentityAddExportInFloatAndInt8() {
        // input -> conv a -> [conv b -> bn] + a (no activation after the add) -> global max pool -> output
        var conf = new NeuralNetConfiguration.Builder().seed(4).updater(new Adam(1e-2)).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutionalFlat(10, 10, 2))
                .addLayer("a", new ConvolutionLayer.Builder(3, 3).nOut(6).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.RELU).build(), "in")
                .addLayer("b", new ConvolutionLayer.Builder(3, 3).nOut(6).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.IDENTITY).build(), "a")
                .addLayer("b_bn", new BatchNormalization.Builder().build(), "b")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "b_bn", "a")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.MAX).build(), "add")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        long[] shape = {2, 10, 10};
        INDArray x = Nd4j.rand(DataType.FLOAT, 300, 200);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 300, 3);
        for (int i = 0; i < 300; i++) y.putScalar(i, x.getDouble(i, 0) > 0.5 ? 0 : x.getDouble(i, 1) > 0.5 ? 1 : 2, 1);
        for (int i = 0; i < 10; i++) graph.fit(new DataSet(x, y));
        StepNetwork f = Dl4jLayers.toFloatNetwork(graph, shape);
        assertEquals(new Step.GlobalPooling(true), f.steps().get(f.steps().size() - 2));
        LabeledData raw = new LabeledData(x.dup('c').data().asFloat(), new int[300], 200, 3);
        float[][] dl4j = graph.outputSingle(false, x).toFloatMatrix();
        double max = maxDifference(ort(onnx(f, null), shape, raw, null), dl4j);
        assertTrue(max <= 1e-4, "float max |difference| " + max);

        var points = CalibrationStatistics.collect(f, raw).quantizations(Calibration.MINMAX, 100);
        StepNetwork q = NetworkQuantizer.quantize(f, points, Granularity.CHANNEL, Set.of());
        float[][] nd4j = q.probabilities(x).toFloatMatrix();
        float[][] ort = ort(onnx(q, null), shape, raw, null);
        int agree = 0;
        for (int i = 0; i < ort.length; i++) if (Evaluator.argmax(ort[i]) == Evaluator.argmax(nd4j[i])) agree++;
        assertTrue(agree >= 0.995 * ort.length, "int8 top-1 agreement " + agree + "/" + ort.length);
        assertTrue(maxDifference(ort, nd4j) <= 0.05, "int8 max |difference| " + maxDifference(ort, nd4j));
    }
}
