package dev.squeeze.compress.onnx;

import dev.squeeze.models.zoo.Network;
import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.quant.Calibration;
import dev.squeeze.compress.quant.CalibrationStatistics;
import dev.squeeze.compress.network.Dl4jLayers;
import dev.squeeze.compress.quant.ConvActivations;
import dev.squeeze.compress.quant.Granularity;
import dev.squeeze.compress.quant.NetworkQuantizer;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.Trainer;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.zoo.ModelZoo;
import dev.squeeze.models.zoo.layers.NativeBatchNormalization;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every zoo model, trained briefly on the real fixtures, exported in every mode and run in ONNX Runtime on real test
 * examples (raw pixels in; the graph normalizes): float against DL4J, int8 against the ND4J int8 network.
 */
class OnnxExportParityTest {
    private static TrainingData images;
    private static LabeledData rawImages;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        images = Fixtures.fashionMnist();
        rawImages = DatasetLoader.load("fashion-mnist", Fixtures.fashionMnistDir()).test();
    }

    private static MultiLayerNetwork trained(MultiLayerNetwork net, TrainingData data, int epochs) {
        trained(Network.of(net), data, epochs);
        return net;
    }

    private static Network trained(Network net, TrainingData data, int epochs) {
        for (int e = 0; e < epochs; e++) {
            for (int from = 0; from < data.train().size(); from += 60) {
                net.fit(data.train().toDataSet(null, from, Math.min(data.train().size(), from + 60)));
            }
        }
        return net;
    }

    private static byte[] onnx(StepNetwork net, TrainingData data) {
        return OnnxExporter.graph(net, data.normalization(), "test").model(8, 17, "test", "", Map.of()).toByteArray();
    }

    private static float[][] ort(byte[] model, TrainingData data, LabeledData raw, Path optimized) {
        try (var ort = new OnnxRuntimeModel(model, data.inputShape(), 1, optimized)) {
            return ort.runAll(OnnxExporter.PROBABILITIES, raw);
        }
    }

    /** Float: max |difference| <= 1e-4 with identical top-1. Int8 (three flavours): >= 99.5% top-1, accuracy within 0.2. */
    private void checkEveryMode(String what, MultiLayerNetwork net, TrainingData data, LabeledData raw) {
        checkEveryMode(what, Network.of(net), data, raw);
    }

    private void checkEveryMode(String what, Network net, TrainingData data, LabeledData raw) {
        StepNetwork f = Dl4jLayers.toFloatNetwork(net, data.inputShape());
        float[][] dl4j = net.output(data.test().toDataSet().getFeatures()).toFloatMatrix();
        float[][] got = ort(onnx(f, data), data, raw, null);
        double max = 0;
        for (int i = 0; i < got.length; i++) {
            assertEquals(Evaluator.argmax(dl4j[i]), Evaluator.argmax(got[i]), what + " float top-1 of example " + i);
            for (int j = 0; j < got[i].length; j++) max = Math.max(max, Math.abs(got[i][j] - dl4j[i][j]));
        }
        assertTrue(max <= 1e-4, what + " float max |difference| " + max);

        var points = CalibrationStatistics.collect(f, data.train().head(500)).quantizations(Calibration.PERCENTILE, 99.99);
        int lastLayer = StepNetwork.layerOf(f.linearSteps().get(f.linearSteps().size() - 1));
        for (var variant : List.of(Map.entry(Granularity.CHANNEL, Set.<Integer>of()), Map.entry(Granularity.TENSOR, Set.<Integer>of()),
                Map.entry(Granularity.CHANNEL, Set.of(lastLayer)))) {
            StepNetwork q = NetworkQuantizer.quantize(f, points, variant.getKey(), variant.getValue());
            float[][] nd4j = Evaluator.probabilities(q, data.test());
            float[][] ort = ort(onnx(q, data), data, raw, null);
            int agree = 0;
            for (int i = 0; i < ort.length; i++) if (Evaluator.argmax(ort[i]) == Evaluator.argmax(nd4j[i])) agree++;
            String label = what + " int8 " + variant.getKey().label() + " keep-float " + variant.getValue();
            assertTrue(agree >= 0.995 * ort.length, label + ": top-1 agreement " + agree + "/" + ort.length);
            double accNd4j = Evaluator.evaluate(nd4j, raw.labels(), data.classNames()).accuracy();
            double accOrt = Evaluator.evaluate(ort, raw.labels(), data.classNames()).accuracy();
            assertTrue(Math.abs(accNd4j - accOrt) <= 0.002 + 1e-9, label + ": accuracy " + accNd4j + " vs " + accOrt);
        }
    }

    @Test
    void everyImageModelOfTheZooMatchesInEveryMode() {
        for (String model : ModelZoo.all().keySet()) {
            if (model.equals("mlp-tabular")) continue;
            Network net = trained(Trainer.newNetwork(TrainParams.of(model), images), images, 1);   // the resnets too
            checkEveryMode(model, net, images, rawImages);
        }
    }

    @Test
    void theTableModelMatchesInEveryMode() {
        Path csv = Path.of(System.getProperty("squeeze.fixtures"), "penguins", "penguins.csv");
        Dataset table = Datasets.open(csv.toString(), null, null, new Datasets.TableOptions("species", null));
        TrainingData data = TrainingData.prepare(table, 0.1);
        MultiLayerNetwork net = trained(Trainer.newNetwork(TrainParams.of("mlp-tabular").withDataset(csv.toString(), "species", null), data).asStack(), data, 20);
        checkEveryMode("mlp-tabular", net, data, table.test());
    }

    @Test
    void onnxRuntimeRunsInt8GraphsOnIntegerKernels() throws Exception {
        for (String model : List.of("lenet-300-100", "lenet-5")) {
            MultiLayerNetwork net = trained(Trainer.newNetwork(TrainParams.of(model), images).asStack(), images, 1);
            StepNetwork f = Dl4jLayers.toFloatNetwork(net, images.inputShape());
            var points = CalibrationStatistics.collect(f, images.train().head(300)).quantizations(Calibration.MINMAX, 100);
            Path optimized = tmp.resolve(model + "-optimized.onnx");
            byte[] written = onnx(NetworkQuantizer.quantize(f, points, Granularity.CHANNEL, Set.of()), images);
            assertWritesNoConstantTwice(model, written);
            ort(written, images, rawImages.head(10), optimized);
            Set<String> ops = new TreeSet<>();
            for (var n : OnnxMl.ModelProto.parseFrom(Files.readAllBytes(optimized)).getGraph().getNodeList()) ops.add(n.getOpType());
            assertTrue(ops.contains("QGemm"), model + ": " + ops);
            if (model.equals("lenet-5")) assertTrue(ops.contains("QLinearConv"), model + ": " + ops);
            assertTrue(!ops.contains("Gemm") && !ops.contains("Conv") && !ops.contains("DequantizeLinear"),
                    model + " keeps no float layer: " + ops);
        }
    }

    /**
     * Float convolution activations ({@code --conv-activations float}): the file holds the convolutions' weights as int8
     * (no float tensor of a convolution's size), ONNX Runtime folds them into float weights at load and runs them on its
     * float Conv, the dense layers on its integer kernels, and computes what ND4J computes (the float convolutions' sums in another order: top-1 within
     * 0.5%).
     */
    @Test
    void floatConvolutionActivationsRunOnTheFloatConvWithInt8WeightsInTheFile() throws Exception {
        MultiLayerNetwork net = trained(Trainer.newNetwork(TrainParams.of("lenet-5"), images).asStack(), images, 1);
        StepNetwork f = Dl4jLayers.toFloatNetwork(net, images.inputShape());
        var points = CalibrationStatistics.collect(f, images.train().head(300)).quantizations(Calibration.MINMAX, 100);
        StepNetwork q = NetworkQuantizer.quantize(f, points,
                new NetworkQuantizer.Scheme(Granularity.CHANNEL, Set.of(), null, ConvActivations.FLOAT));
        byte[] written = onnx(q, images);
        for (var t : OnnxMl.ModelProto.parseFrom(written).getGraph().getInitializerList()) {
            long elements = t.getDimsList().stream().reduce(1L, (a, b) -> a * b);
            assertTrue(t.getDataType() != OnnxMl.TensorProto.DataType.FLOAT_VALUE || elements < 150,
                    t.getName() + ": " + elements + " floats");
        }
        Path optimized = tmp.resolve("float-convolutions-optimized.onnx");
        float[][] ort = ort(written, images, rawImages, optimized);
        Set<String> ops = new TreeSet<>();
        for (var n : OnnxMl.ModelProto.parseFrom(Files.readAllBytes(optimized)).getGraph().getNodeList()) ops.add(n.getOpType());
        assertTrue(ops.contains("QGemm") && !ops.contains("QLinearConv"), ops.toString());
        assertTrue(ops.contains("Conv") || ops.contains("FusedConv"), ops.toString());
        assertTrue(!ops.contains("Cast") && !ops.contains("DequantizeLinear"), "the weights folded at load: " + ops);

        float[][] nd4j = Evaluator.probabilities(q, images.test());
        int agree = 0;
        for (int i = 0; i < ort.length; i++) if (Evaluator.argmax(ort[i]) == Evaluator.argmax(nd4j[i])) agree++;
        assertTrue(agree >= 0.995 * ort.length, "top-1 agreement " + agree + "/" + ort.length);
    }

    /**
     * What the int8 file spends besides weights: a scale and a zero point written once however many nodes read them
     * (a QuantizeLinear and the DequantizeLinear after it), and no zero points where they are 0 by default and ONNX
     * Runtime fuses without them (int32 biases, convolution weights), weight scales in 2 bytes each, no node names, and
     * no Identity node for the outputs: the last layer's Gemm writes {@code logits} and the Softmax
     * {@code probabilities}.
     */
    private static void assertWritesNoConstantTwice(String model, byte[] written) throws Exception {
        var g = OnnxMl.ModelProto.parseFrom(written).getGraph();
        Set<List<Object>> seen = new HashSet<>();   // ByteString compares by content (its toString does not)
        for (var t : g.getInitializerList()) {
            if (t.getRawData().size() <= 8) {
                assertTrue(seen.add(List.of(t.getDataType(), t.getDimsList(), t.getRawData())),
                        model + ": " + t.getName() + " repeats a constant already written");
            }
        }
        var types = new HashMap<String, Integer>();
        g.getInitializerList().forEach(t -> types.put(t.getName(), t.getDataType()));
        Set<String> convWeights = new HashSet<>();
        for (var n : g.getNodeList()) if (n.getOpType().equals("Conv")) convWeights.add(n.getInput(1));
        int dequantize = 0;
        for (var n : g.getNodeList()) {
            if (!n.getOpType().equals("DequantizeLinear")) continue;
            dequantize++;
            boolean int32 = types.getOrDefault(n.getInput(0), -1) == OnnxMl.TensorProto.DataType.INT32_VALUE;
            if (int32 || convWeights.contains(n.getOutput(0))) {
                assertEquals(2, n.getInputCount(), model + ": " + n.getOutput(0) + " writes a zero point of 0");
            }
        }
        assertTrue(dequantize > 0, model + ": no DequantizeLinear in the int8 file");
        Map<String, String> producers = new HashMap<>();
        for (var n : g.getNodeList()) {
            assertEquals("", n.getName(), model + ": the node writing " + n.getOutput(0) + " has a name");
            n.getOutputList().forEach(o -> producers.put(o, n.getOpType()));
        }
        // The quantizer rounds weight scales to float16 values: a layer of more than 32 channels stores them so.
        assertTrue(g.getInitializerList().stream().anyMatch(t -> t.getDataType() == OnnxMl.TensorProto.DataType.FLOAT16_VALUE
                && t.getDims(0) > 32), model + ": per-channel weight scales as FLOAT16");
        assertEquals("Gemm", producers.get(OnnxExporter.LOGITS), model);
        assertEquals("Softmax", producers.get(OnnxExporter.PROBABILITIES), model);
    }

    @Test
    void batchNormalizationFoldsIntoTheLayerBeforeIt() {
        var conf = new NeuralNetConfiguration.Builder().seed(3).updater(new Adam(1e-3)).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).build())
                .layer(new NativeBatchNormalization.Builder().build())   // the zoo's (resnet's) batch norm folds too
                .layer(new org.deeplearning4j.nn.conf.layers.ActivationLayer.Builder().activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(PoolingType.AVG).kernelSize(2, 2).stride(2, 2).build())
                .layer(new DenseLayer.Builder().nOut(16).activation(Activation.IDENTITY).build())
                .layer(new BatchNormalization.Builder().activation(Activation.TANH).build())   // DL4J ignores it
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        trained(net, images, 1);   // moves the running mean and variance away from 0 and 1
        checkEveryModeFloatOnly(net);
    }

    private void checkEveryModeFloatOnly(MultiLayerNetwork net) {
        StepNetwork f = Dl4jLayers.toFloatNetwork(net, images.inputShape());
        assertEquals(3, f.linearSteps().size(), "the batch norms and the activation layer are folded away");
        float[][] dl4j = net.output(images.test().toDataSet().getFeatures(), false).toFloatMatrix();
        float[][] got = ort(onnx(f, images), images, rawImages, null);
        double max = 0;
        for (int i = 0; i < got.length; i++) for (int j = 0; j < 10; j++) max = Math.max(max, Math.abs(got[i][j] - dl4j[i][j]));
        assertTrue(max <= 1e-4, "max |difference| " + max);
    }

    @Test
    void aBatchNormAfterAnActivationOrAnUnknownActivationIsRefusedByName() {
        var afterRelu = new NeuralNetConfiguration.Builder().list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.RELU).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new OutputLayer.Builder().nOut(2).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.feedForward(4)).build();
        MultiLayerNetwork a = new MultiLayerNetwork(afterRelu);
        a.init();
        var e = assertThrows(BadInputException.class, () -> Dl4jLayers.toFloatNetwork(a, new long[]{4}));
        assertTrue(e.getMessage().contains("layer 1 (BatchNormalization)") && e.getMessage().contains("cannot be folded"), e.getMessage());

        var swish = new NeuralNetConfiguration.Builder().list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.SWISH).build())
                .layer(new OutputLayer.Builder().nOut(2).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.feedForward(4)).build();
        MultiLayerNetwork s = new MultiLayerNetwork(swish);
        s.init();
        var e2 = assertThrows(BadInputException.class, () -> OnnxExporter.graph(Dl4jLayers.toFloatNetwork(s, new long[]{4}), null, "x"));
        assertTrue(e2.getMessage().contains("0 dense 4->3") && e2.getMessage().contains("swish"), e2.getMessage());
    }

}
