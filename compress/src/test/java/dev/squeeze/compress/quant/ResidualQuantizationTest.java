package dev.squeeze.compress.quant;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.network.Dl4jLayers;
import dev.squeeze.compress.network.FloatLinear;
import dev.squeeze.compress.network.Step;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.compress.network.Tensor;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.models.zoo.BuildSettings;
import dev.squeeze.models.zoo.ModelZoo;
import dev.squeeze.models.zoo.Network;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Residual adds in int8, and int8 forms of the zoo's residual graph trained briefly on the fixtures. */
class ResidualQuantizationTest {
    private static TrainingData data;
    private static ComputationGraph resnet;

    @TempDir
    Path tmp;

    @BeforeAll
    static void train() {
        data = Fixtures.fashionMnist();
        Network net = ModelZoo.get("resnet-tiny").build(new BuildSettings(2, 1e-2, data.inputShape(), 10));
        for (int epoch = 0; epoch < 2; epoch++) {
            for (int from = 0; from < data.train().size(); from += 50) {
                net.fit(data.train().toDataSet(null, from, Math.min(data.train().size(), from + 50)));
            }
        }
        resnet = ((Network.Graph) net).graph();
    }

    private static INDArray codes(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextInt(256);
        return Nd4j.createFromArray(v).reshape(1, n);
    }

    @Test
    void theInt8AddRequantizesBothInputsToTheOutputsScaleWithinHalfAStep() {
        Random rnd = new Random(3);
        int n = 4000;
        ActivationQuant qa = new ActivationQuant(0.05f, 10);
        ActivationQuant qb = new ActivationQuant(0.11f, 128);
        ActivationQuant out = ActivationQuant.fromRange(-12, 24);
        Tensor a = new Tensor(codes(rnd, n), qa);
        Tensor b = new Tensor(codes(rnd, n), qb);
        for (boolean relu : new boolean[]{false, true}) {
            var add = new Step.Residual("add", List.of(new Step.Reshape(new long[]{n})), List.of(),
                    relu ? new ActivationReLU() : new ActivationIdentity(), out);
            Tensor sum = add.add(a, b);
            assertEquals(out, sum.quant(), "the output is codes under the add's own quantization");
            float[] got = sum.values().dup('c').data().asFloat();
            float[] x = a.values().dup('c').data().asFloat();
            float[] y = b.values().dup('c').data().asFloat();
            int clamped = 0;
            for (int i = 0; i < n; i++) {
                assertEquals(Math.rint(got[i]), got[i], "an integer code");
                double real = (x[i] - qa.zeroPoint()) * (double) qa.scale() + (y[i] - qb.zeroPoint()) * (double) qb.scale();
                if (relu) real = Math.max(0, real);
                double represented = Math.max(out.min(), Math.min(out.max(), real));
                if (represented != real) clamped++;
                assertTrue(Math.abs(out.dequantize((int) got[i]) - represented) <= out.scale() / 2 + 1e-5,
                        "relu " + relu + ": codes " + x[i] + " + " + y[i] + " = " + real + ", got " + out.dequantize((int) got[i]));
            }
            assertTrue(clamped < n / 10, "the test exercises the range, not the clamp: " + clamped);
        }
    }

    @Test
    void anAddOfRealValuesAndCodesQuantizesTheSum() {
        ActivationQuant qa = new ActivationQuant(0.125f, 0);
        ActivationQuant out = new ActivationQuant(0.25f, 0);
        var add = new Step.Residual("add", List.of(new Step.Reshape(new long[]{3})), List.of(), new ActivationReLU(), out);
        Tensor sum = add.add(new Tensor(Nd4j.createFromArray(new float[]{3, 20, 5}).reshape(1, 3), qa),
                Tensor.real(Nd4j.createFromArray(new float[]{0, -3f, 0}).reshape(1, 3)));
        // 0.375 / 0.25 = 1.5 -> 2 and 0.625 / 0.25 = 2.5 -> 2 (half to even, as QuantizeLinear); 2.5 - 3 < 0 -> ReLU's 0
        assertEquals(List.of(2f, 0f, 2f), toList(sum.values()));
    }

    private static List<Float> toList(INDArray a) {
        List<Float> out = new java.util.ArrayList<>();
        for (float f : a.dup('c').data().asFloat()) out.add(f);
        return out;
    }

    @Test
    void calibrationObservesEveryLayerAndAddAndTheInt8GraphKeepsTheFloatAccuracy() {
        StepNetwork f = Dl4jLayers.toFloatNetwork(resnet, data.inputShape());
        var stats = CalibrationStatistics.collect(f, data.train().head(400));
        List<ActivationQuant> points = stats.quantizations(Calibration.MINMAX, 100);
        assertEquals(f.calibrationPointCount(), points.size());
        StepNetwork q = NetworkQuantizer.quantize(f, points, Granularity.CHANNEL, Set.of());
        // Each add's output quantization is the next layer's input: codes pass without requantizing.
        List<Step> flat = q.flattened();
        for (int i = 0; i < flat.size(); i++) {
            if (flat.get(i) instanceof Step.Residual r && i + 1 < flat.size() && flat.get(i + 1) instanceof Int8Linear next) {
                assertEquals(r.output(), next.input(), r.label());
            }
        }
        double floatAcc = Evaluator.evaluate(f, data.test(), data.classNames()).accuracy();
        double int8Acc = Evaluator.evaluate(q, data.test(), data.classNames()).accuracy();
        assertTrue(floatAcc > 0.5, "trained: " + floatAcc);
        assertTrue(Math.abs(floatAcc - int8Acc) <= 0.02, "float " + floatAcc + " int8 " + int8Acc);
    }

    @Test
    void anAddWhoseInputsAreBothRealStaysRealAndOneWithCodesIsInt8() {
        StepNetwork f = Dl4jLayers.toFloatNetwork(resnet, data.inputShape());
        List<ActivationQuant> points = CalibrationStatistics.collect(f, data.train().head(200))
                .quantizations(Calibration.MINMAX, 100);
        Set<Integer> allButLast = new HashSet<>();
        List<Step> layers = f.linearSteps();
        for (Step s : layers.subList(0, layers.size() - 1)) allButLast.add(StepNetwork.layerOf(s));
        StepNetwork q = NetworkQuantizer.quantize(f, points, Granularity.CHANNEL, allButLast);
        for (Step s : q.flattened()) if (s instanceof Step.Residual r) assertNull(r.output(), r.label());
        assertInstanceOf(Int8Linear.class, q.linearSteps().get(layers.size() - 1));

        // Only the stem in int8: the first block's shortcut brings codes, so its add is int8; the later ones stay real.
        Set<Integer> allButStem = new HashSet<>();
        for (Step s : layers.subList(1, layers.size())) allButStem.add(StepNetwork.layerOf(s));
        StepNetwork stem = NetworkQuantizer.quantize(f, points, Granularity.CHANNEL, allButStem);
        List<Step.Residual> adds = stem.flattened().stream().filter(s -> s instanceof Step.Residual)
                .map(s -> (Step.Residual) s).toList();
        assertTrue(adds.get(0).output() != null && adds.get(1).output() == null && adds.get(2).output() == null,
                adds.stream().map(Step::describe).toList().toString());
        INDArray x = data.test().toDataSet(null, 0, 100).getFeatures();
        assertTrue(f.probabilities(x).sub(stem.probabilities(x)).amaxNumber().doubleValue() < 0.2);
    }

    @Test
    void theInt8GraphFileRoundTripsToTheSameOutputs() throws Exception {
        StepNetwork f = Dl4jLayers.toFloatNetwork(resnet, data.inputShape());
        var points = CalibrationStatistics.collect(f, data.train().head(300)).quantizations(Calibration.ENTROPY, 99.99);
        int stem = StepNetwork.layerOf(f.linearSteps().get(0));
        StepNetwork q = NetworkQuantizer.quantize(f, points, Granularity.TENSOR, Set.of(stem));
        ModelInfo info = new ModelInfo("resnet-tiny", "fashion-mnist", null, data.inputShape(), data.classNames(),
                data.normalization(), "abc", "run1", 1, 0.5);
        Path file = tmp.resolve("int8.zip");
        QuantizedModelFile.save(file, q, info);
        QuantizedModelFile.Loaded loaded = QuantizedModelFile.load(file);
        INDArray x = data.test().toDataSet(null, 0, 300).getFeatures();
        assertEquals(q.probabilities(x), loaded.network().probabilities(x));
        assertEquals(q.flattened().stream().map(Step::describe).toList(),
                loaded.network().flattened().stream().map(Step::describe).toList());
        assertInstanceOf(FloatLinear.class, loaded.network().linearSteps().get(0), "the kept stem stays float");
        assertTrue(ModelFile.isInt8(file));
        assertEquals(QuantizedModelFile.RESIDUAL_VERSION, version(file), "residual blocks, no 4-bit layer: version 2");

        // A layer stack is still written as version 1, which every Squeeze reads.
        StepNetwork stack = new StepNetwork(new long[]{4}, List.of(q.linearSteps().get(q.linearSteps().size() - 1)));
        Path stackFile = tmp.resolve("stack.zip");
        QuantizedModelFile.save(stackFile, stack, info);
        assertEquals(QuantizedModelFile.LAYER_STACK_VERSION, version(stackFile));
    }

    private static int version(Path file) throws Exception {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            String json = new String(zip.getInputStream(zip.getEntry(ModelFile.INT8_ENTRY)).readAllBytes(), StandardCharsets.UTF_8);
            return ((Number) Json.read(json, Map.class).get("version")).intValue();
        }
    }
}
