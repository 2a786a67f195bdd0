package dev.squeeze.compress.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.network.Dl4jLayers;
import dev.squeeze.compress.network.FloatLinear;
import dev.squeeze.compress.network.Step;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.compress.quant.Calibration;
import dev.squeeze.compress.quant.CalibrationStatistics;
import dev.squeeze.compress.quant.Granularity;
import dev.squeeze.compress.quant.Int4Linear;
import dev.squeeze.compress.quant.Int4Weights;
import dev.squeeze.compress.quant.Int8Linear;
import dev.squeeze.compress.quant.NetworkQuantizer;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.Trainer;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.models.data.DatasetLoader;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.zoo.Network;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 4-bit weights of models trained briefly on the real fixtures, against ONNX Runtime: the INT4 DequantizeLinear that
 * ND4J mirrors (bit for bit), the graph as written (no optimization: float MatMul of the dequantized weights; within
 * float rounding) and the graph ONNX Runtime serves (MatMulNBits; at its default accuracy level 4 it quantizes the
 * activations to int8 per block inside the kernel, so only the top-1 class is compared).
 */
class Int4ExportTest {
    /** The written graph computes what ND4J computes, in another order of float sums: |difference| of probabilities. */
    private static final double FLOAT_ROUNDING = 1e-5;
    private static final String ACCURACY_LEVEL = "session.qdq_matmulnbits_accuracy_level";

    private static TrainingData images;
    private static LabeledData rawImages;
    private static Network lenet300;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        images = Fixtures.fashionMnist();
        rawImages = DatasetLoader.load("fashion-mnist", Fixtures.fashionMnistDir()).test();
        lenet300 = trained("lenet-300-100");
    }

    private static Network trained(String model) {
        Network net = Trainer.newNetwork(TrainParams.of(model), images);
        for (int from = 0; from < images.train().size(); from += 60) {
            net.fit(images.train().toDataSet(null, from, Math.min(images.train().size(), from + 60)));
        }
        return net;
    }

    private static StepNetwork quantized(Network net, NetworkQuantizer.FourBit fourBit) {
        StepNetwork f = Dl4jLayers.toFloatNetwork(net, images.inputShape());
        var points = CalibrationStatistics.collect(f, images.train().head(300)).quantizations(Calibration.MINMAX, 100);
        return NetworkQuantizer.quantize(f, points, Granularity.CHANNEL, Set.of(), fourBit);
    }

    private static byte[] onnx(StepNetwork net) {
        return OnnxExporter.graph(net, images.normalization(), "test").model(10, 21, "test", "", Map.of()).toByteArray();
    }

    /** ONNX Runtime's probabilities, with every optimization or none, and the session config given. */
    private static float[][] ort(byte[] model, boolean optimize, Map<String, String> config, Path optimized) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(optimize ? OrtSession.SessionOptions.OptLevel.ALL_OPT : OrtSession.SessionOptions.OptLevel.NO_OPT);
            o.setIntraOpNumThreads(1);
            o.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            for (var e : config.entrySet()) o.addConfigEntry(e.getKey(), e.getValue());
            if (optimized != null) o.setOptimizedModelFilePath(optimized.toString());
            try (OrtSession s = env.createSession(model, o);
                 OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(rawImages.features()),
                         new long[]{rawImages.size(), 1, 28, 28});
                 OrtSession.Result r = s.run(Map.of(OnnxExporter.INPUT, x), Set.of(OnnxExporter.PROBABILITIES))) {
                return (float[][]) r.get(0).getValue();
            }
        }
    }

    private static List<String> ops(Path optimized) throws Exception {
        List<String> ops = new ArrayList<>();
        for (var n : OnnxMl.ModelProto.parseFrom(Files.readAllBytes(optimized)).getGraph().getNodeList()) ops.add(n.getOpType());
        return ops;
    }

    private static double maxDifference(float[][] a, float[][] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) for (int j = 0; j < a[i].length; j++) max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
        return max;
    }

    private static int agreement(float[][] a, float[][] b) {
        int agree = 0;
        for (int i = 0; i < a.length; i++) if (Evaluator.argmax(a[i]) == Evaluator.argmax(b[i])) agree++;
        return agree;
    }

    /** ONNX's DequantizeLinear of the INT4 tensors the exporter writes, run alone: its output's float bits. */
    private static float[] dequantizeInOnnxRuntime(Int4Weights w) throws Exception {
        OnnxGraph g = new OnnxGraph("dq");
        String x = g.input("x", OnnxMl.TensorProto.DataType.FLOAT, 1);
        String dq = QdqNodes.int4Weight(g, w.packed(), w.shape(), w.scales(), w.blockSize());
        g.output("weights", dq, OnnxMl.TensorProto.DataType.FLOAT, w.shape());
        g.output("unused", x, OnnxMl.TensorProto.DataType.FLOAT, 1);
        byte[] model = g.model(10, 21, "test", "", Map.of()).toByteArray();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);   // DequantizeLinear's own kernel
            try (OrtSession s = env.createSession(model, o);
                 OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[]{0f}), new long[]{1});
                 OrtSession.Result r = s.run(Map.of("x", in), Set.of("weights"))) {
                FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
                float[] f = new float[out.remaining()];
                out.get(f);
                return f;
            }
        }
    }

    private static int[] bits(float[] f) {
        int[] out = new int[f.length];
        for (int i = 0; i < f.length; i++) out[i] = Float.floatToRawIntBits(f[i]);
        return out;
    }

    @Test
    void theWeightsNd4jUsesAreOnnxRuntimesDequantizeLinearBitForBit() throws Exception {
        // A trained layer, 784 inputs: 24 blocks of 32 and a last one of 16.
        INDArray trainedWeights = ((FloatLinear) Dl4jLayers.toFloatNetwork(lenet300, images.inputShape()).linearSteps().get(0)).weights();
        // Random weights over magnitudes far apart, 70 inputs in blocks of 16 (the last of 6), one block all zero.
        java.util.Random rnd = new java.util.Random(19);
        float[] r = new float[70 * 13];
        for (int i = 0; i < r.length; i++) {
            boolean zeroBlock = i / 13 >= 16 && i / 13 < 32 && i % 13 == 4;
            r[i] = zeroBlock ? 0f : (float) ((rnd.nextDouble() - 0.5) * Math.pow(10, rnd.nextDouble() * 8 - 6));
        }
        INDArray random = Nd4j.create(r, new long[]{70, 13}, 'c');
        for (var c : List.of(Map.entry(trainedWeights, 32), Map.entry(random, 16), Map.entry(trainedWeights, 128))) {
            Int4Weights w = Int4Weights.quantize(c.getKey(), c.getValue());
            float[] nd4j = w.dequantized().data().asFloat();
            assertArrayEquals(bits(dequantizeInOnnxRuntime(w)), bits(nd4j), "block size " + c.getValue());
            assertArrayEquals(bits(nd4j), bits(Int4Weights.fakeQuantize(c.getKey(), c.getValue()).data().asFloat()),
                    "quantization-aware training's weights are the same");
        }
    }

    @Test
    void lenet300AtFourBitsFusesIntoMatMulNBitsAndComputesWhatNd4jDoes() throws Exception {
        for (int blockSize : new int[]{32, 128}) {
            StepNetwork q = quantized(lenet300, new NetworkQuantizer.FourBit(blockSize, Set.of()));
            assertTrue(q.linearSteps().stream().allMatch(s -> s instanceof Int4Linear), q.linearSteps().toString());
            byte[] model = onnx(q);
            Path optimized = tmp.resolve("optimized-" + blockSize + ".onnx");
            float[][] served = ort(model, true, Map.of(), optimized);
            List<String> ops = ops(optimized);
            assertEquals(3, Collections.frequency(ops, "MatMulNBits"), "every layer fused: " + ops);
            assertFalse(ops.contains("DequantizeLinear") || ops.contains("MatMul") || ops.contains("Gemm"), ops.toString());

            float[][] nd4j = Evaluator.probabilities(q, images.test());
            float[][] written = ort(model, false, Map.of(), null);
            String what = "block size " + blockSize;
            assertTrue(maxDifference(written, nd4j) <= FLOAT_ROUNDING, what + ": " + maxDifference(written, nd4j));
            assertEquals(nd4j.length, agreement(written, nd4j), what);
            // Accuracy level 1: the fused kernel computes in float, as the graph is written.
            float[][] fusedFloat = ort(model, true, Map.of(ACCURACY_LEVEL, "1"), null);
            assertTrue(maxDifference(fusedFloat, nd4j) <= FLOAT_ROUNDING, what + ": " + maxDifference(fusedFloat, nd4j));
            // The default, 4: activations quantized to int8 per block inside the kernel.
            assertTrue(agreement(served, nd4j) >= 0.98 * nd4j.length, what + ": top-1 agreement " + agreement(served, nd4j));
            double accNd4j = Evaluator.evaluate(nd4j, rawImages.labels(), images.classNames()).accuracy();
            double accServed = Evaluator.evaluate(served, rawImages.labels(), images.classNames()).accuracy();
            assertTrue(Math.abs(accNd4j - accServed) <= 0.01, what + ": accuracy " + accNd4j + " vs " + accServed);
        }
    }

    @Test
    void keepingALayerAt8BitsGivesAMixedGraphThatFusesBothKinds() throws Exception {
        StepNetwork q = quantized(lenet300, new NetworkQuantizer.FourBit(32, Set.of(0)));
        List<Step> layers = q.linearSteps();
        assertTrue(layers.get(0) instanceof Int8Linear && layers.get(1) instanceof Int4Linear && layers.get(2) instanceof Int4Linear,
                layers.toString());
        byte[] model = onnx(q);
        Path optimized = tmp.resolve("mixed.onnx");
        float[][] served = ort(model, true, Map.of(), optimized);
        List<String> ops = ops(optimized);
        assertEquals(2, Collections.frequency(ops, "MatMulNBits"), ops.toString());
        assertTrue(ops.contains("QGemm"), ops.toString());
        float[][] nd4j = Evaluator.probabilities(q, images.test());
        float[][] written = ort(model, false, Map.of(), null);
        // The int8 layer's output codes are rounded in float by both, in another order: a code can differ by one.
        assertTrue(agreement(written, nd4j) >= 0.995 * nd4j.length, "top-1 agreement " + agreement(written, nd4j));
        assertTrue(agreement(served, nd4j) >= 0.98 * nd4j.length, "top-1 agreement " + agreement(served, nd4j));
    }

    @Test
    void lenet5KeepsItsConvolutionsAt8Bits() throws Exception {
        StepNetwork q = quantized(trained("lenet-5"), new NetworkQuantizer.FourBit(32, Set.of()));
        long convs = q.linearSteps().stream().filter(s -> s instanceof Int8Linear i && i.geometry() instanceof dev.squeeze.compress.network.Geometry.Conv).count();
        long dense = q.linearSteps().stream().filter(s -> s instanceof Int4Linear).count();
        assertEquals(q.linearSteps().size(), convs + dense, q.linearSteps().toString());
        assertTrue(convs > 0 && dense > 0, q.linearSteps().toString());
        Path optimized = tmp.resolve("lenet5.onnx");
        float[][] served = ort(onnx(q), true, Map.of(), optimized);
        List<String> ops = ops(optimized);
        assertEquals(dense, Collections.frequency(ops, "MatMulNBits"), ops.toString());
        assertTrue(ops.contains("QLinearConv"), ops.toString());
        float[][] nd4j = Evaluator.probabilities(q, images.test());
        assertTrue(agreement(served, nd4j) >= 0.98 * nd4j.length, "top-1 agreement " + agreement(served, nd4j));
    }
}
