package dev.squeeze.compress.quant;

import dev.squeeze.models.zoo.Network;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.network.Dl4jLayers;
import dev.squeeze.compress.network.FloatLinear;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.Trainer;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.core.BadInputException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real networks trained briefly on the Fashion-MNIST fixtures, read into float and int8 form. */
class QuantizedNetworkTest {
    private static TrainingData data;
    private static MultiLayerNetwork lenet5;
    private static MultiLayerNetwork lenet300;

    @TempDir
    Path tmp;

    @BeforeAll
    static void train() {
        data = Fixtures.fashionMnist();
        lenet5 = trained("lenet-5", 2);
        lenet300 = trained("lenet-300-100", 3);
    }

    private static MultiLayerNetwork trained(String model, int epochs) {
        MultiLayerNetwork net = Trainer.newNetwork(TrainParams.of(model), data).asStack();
        for (int e = 0; e < epochs; e++) {
            for (int from = 0; from < data.train().size(); from += 60) {
                net.fit(data.train().toDataSet(null, from, Math.min(data.train().size(), from + 60)));
            }
        }
        return net;
    }

    @Test
    void theFloatFormComputesWhatDl4jComputes() {
        for (MultiLayerNetwork net : List.of(lenet5, lenet300)) {
            StepNetwork f = Dl4jLayers.toFloatNetwork(net, data.inputShape());
            INDArray x = data.test().toDataSet(null, 0, 200).getFeatures();
            INDArray want = net.output(x, false);
            INDArray got = f.probabilities(x);
            assertArrayEquals(want.shape(), got.shape());
            assertTrue(want.sub(got).amaxNumber().doubleValue() < 1e-5, "max abs difference " + want.sub(got).amaxNumber());
        }
    }

    @Test
    void int8KeepsAccuracyWithinTwoPointsOnBothBrieflyTrainedNetworks() {
        for (MultiLayerNetwork net : List.of(lenet5, lenet300)) {
            StepNetwork f = Dl4jLayers.toFloatNetwork(net, data.inputShape());
            var stats = CalibrationStatistics.collect(f, data.train().head(500));
            for (Calibration method : Calibration.values()) {
                StepNetwork q = NetworkQuantizer.quantize(f, stats.quantizations(method, 99.99), Granularity.CHANNEL, Set.of());
                assertTrue(q.linearSteps().stream().allMatch(s -> s instanceof Int8Linear));
                double floatAcc = Evaluator.evaluate(Network.of(net), data.test(), data.classNames()).accuracy();
                double int8Acc = Evaluator.evaluate(q, data.test(), data.classNames()).accuracy();
                assertTrue(floatAcc > 0.6, "trained: " + floatAcc);
                assertTrue(Math.abs(floatAcc - int8Acc) <= 0.02, method + ": float " + floatAcc + " int8 " + int8Acc);
            }
        }
    }

    @Test
    void keptFloatLayersStayFloatAndTheRestIsInt8() {
        StepNetwork f = Dl4jLayers.toFloatNetwork(lenet5, data.inputShape());
        var points = CalibrationStatistics.collect(f, data.train().head(200)).quantizations(Calibration.MINMAX, 100);
        StepNetwork q = NetworkQuantizer.quantize(f, points, Granularity.TENSOR, Set.of(0, 6));
        var linear = q.linearSteps();
        assertInstanceOf(FloatLinear.class, linear.get(0));
        assertInstanceOf(Int8Linear.class, linear.get(1));
        assertInstanceOf(FloatLinear.class, linear.get(linear.size() - 1));
        assertEquals(1, ((Int8Linear) linear.get(1)).weights().scales().length, "per tensor: one scale");
    }

    @Test
    void floatConvolutionActivationsKeepInt8WeightsSharedAndStoredAndComputeAsTheirDequantizedFloatLayers() throws Exception {
        StepNetwork f = Dl4jLayers.toFloatNetwork(lenet5, data.inputShape());
        var points = CalibrationStatistics.collect(f, data.train().head(300)).quantizations(Calibration.MINMAX, 100);
        StepNetwork q = NetworkQuantizer.quantize(f, points,
                new NetworkQuantizer.Scheme(Granularity.CHANNEL, Set.of(), null, ConvActivations.FLOAT));
        var linear = q.linearSteps();
        var floatLinear = f.linearSteps();
        for (int k = 0; k < linear.size(); k++) {
            boolean conv = ((FloatLinear) floatLinear.get(k)).geometry() instanceof dev.squeeze.compress.network.Geometry.Conv;
            Class<?> want = conv ? WeightOnlyInt8Linear.class : Int8Linear.class;
            assertEquals(want, linear.get(k).getClass(), linear.get(k).describe());
        }
        WeightOnlyInt8Linear first = (WeightOnlyInt8Linear) linear.get(0);
        FloatLinear firstFloat = (FloatLinear) floatLinear.get(0);
        QuantizedWeights int8 = QuantizedWeights.quantize(firstFloat.weights(), 0, Granularity.CHANNEL);
        assertArrayEquals(int8.values(), first.weights().values(), "the int8 layer's weights");
        assertArrayEquals(int8.scales(), first.weights().scales());
        INDArray x = data.test().toDataSet(null, 0, 200).getFeatures();
        var in = dev.squeeze.compress.network.Tensor.real(x.reshape(x.size(0), 1, 28, 28));
        assertEquals(new FloatLinear(0, "c", first.geometry(), first.weights().dequantized(), firstFloat.bias(),
                firstFloat.activation()).apply(in).values(), first.apply(in).values(), "float, on the dequantized weights");
        double off = first.apply(in).values().sub(firstFloat.apply(in).values()).amaxNumber().doubleValue();
        // Each weight is off by at most half its channel's scale, over the inputs of one output (ReLU only shrinks it).
        double maxScale = 0;
        for (float sc : int8.scales()) maxScale = Math.max(maxScale, sc);
        double bound = 0.5 * maxScale * (firstFloat.weights().length() / int8.channels()) * x.amaxNumber().doubleValue();
        assertTrue(off > 0 && off <= bound, "off the float layer by the weights' rounding alone: " + off + " > " + bound);
        double floatAcc = Evaluator.evaluate(Network.of(lenet5), data.test(), data.classNames()).accuracy();
        assertTrue(Math.abs(floatAcc - Evaluator.evaluate(q, data.test(), data.classNames()).accuracy()) <= 0.02);

        StepNetwork shared = WeightSharing.apply(q, 3);
        byte[] codes = ((WeightOnlyInt8Linear) shared.linearSteps().get(1)).weights().values();
        assertTrue(IntStream.range(0, codes.length).map(i -> codes[i]).filter(c -> c != 0).distinct().count() <= 3,
                "weight sharing shares a float-activation layer's int8 weights too");

        Path file = tmp.resolve("float-convolutions.zip");
        QuantizedModelFile.save(file, shared, new ModelInfo("lenet-5", "fashion-mnist", null, data.inputShape(),
                data.classNames(), data.normalization(), "abc", "run1", 2, 0.7));
        StepNetwork loaded = QuantizedModelFile.load(file).network();
        assertEquals(shared.probabilities(x), loaded.probabilities(x));
        assertEquals(shared.linearSteps().get(1).describe(), loaded.linearSteps().get(1).describe());
    }

    @Test
    void theInt8FileIsUnderAThirdOfTheFloatFileAndLoadsToTheSameOutputs() throws Exception {
        StepNetwork f = Dl4jLayers.toFloatNetwork(lenet300, data.inputShape());
        var points = CalibrationStatistics.collect(f, data.train().head(300)).quantizations(Calibration.ENTROPY, 99.99);
        StepNetwork q = NetworkQuantizer.quantize(f, points, Granularity.CHANNEL, Set.of());
        ModelInfo info = new ModelInfo("lenet-300-100", "fashion-mnist", null, data.inputShape(), data.classNames(),
                data.normalization(), "abc", "run1", 3, 0.7);
        Path floatFile = tmp.resolve("float.zip");
        Path int8File = tmp.resolve("int8.zip");
        ModelFile.save(floatFile, Network.of(lenet300), info);
        QuantizedModelFile.save(int8File, q, info);
        assertTrue(Files.size(int8File) <= 0.30 * Files.size(floatFile), Files.size(int8File) + " vs " + Files.size(floatFile));

        QuantizedModelFile.Loaded loaded = QuantizedModelFile.load(int8File);
        INDArray x = data.test().toDataSet(null, 0, 300).getFeatures();
        assertEquals(q.probabilities(x), loaded.network().probabilities(x));
        assertEquals("run1", loaded.info().runId());
        assertTrue(ModelFile.isInt8(int8File));
        var e = assertThrows(BadInputException.class, () -> ModelFile.load(int8File, false));
        assertTrue(e.getMessage().contains("int8 model"), e.getMessage());
    }
}
