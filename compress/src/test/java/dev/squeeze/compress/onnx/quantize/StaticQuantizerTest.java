package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OrtSession;
import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.onnx.inputs.InputBatch;
import dev.squeeze.compress.onnx.inputs.InputTensor;
import dev.squeeze.compress.quant.Calibration;
import dev.squeeze.compress.quant.Granularity;
import dev.squeeze.compress.quant.TensorStatistics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static dev.squeeze.compress.onnx.quantize.DynamicQuantizerTest.Agreement;
import static dev.squeeze.compress.onnx.quantize.DynamicQuantizerTest.agreement;
import static dev.squeeze.compress.onnx.quantize.DynamicQuantizerTest.gaussian;
import static dev.squeeze.compress.onnx.quantize.DynamicQuantizerTest.operators;
import static dev.squeeze.compress.onnx.quantize.DynamicQuantizerTest.optimizedNodes;
import static dev.squeeze.compress.onnx.quantize.DynamicQuantizerTest.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Static (QDQ) quantization of {@link TestGraphs}' graphs with ranges calibrated in real ONNX Runtime sessions on
 * seeded calibration batches, measured against the float graph on other seeded inputs (figures computed here, not by
 * the code under test), and the integer kernels in ONNX Runtime's optimized graph.
 */
class StaticQuantizerTest {
    private static final int BATCH = 16;
    private static final OrtSession.SessionOptions.OptLevel ALL = OrtSession.SessionOptions.OptLevel.ALL_OPT;

    @TempDir
    Path dir;

    private static long[] blockShape(int rows) {
        return new long[]{rows, TestGraphs.SEQ, TestGraphs.DIM};
    }

    /** Three batches of 16 rows of {@code input}, from {@code values(n, seed)}. */
    private static List<InputBatch> calibration(String input, long[] rowShape, java.util.function.BiFunction<Long, Long, float[]> values) {
        long per = 1;
        for (long d : rowShape) per *= d;
        long[] shape = new long[rowShape.length + 1];
        shape[0] = BATCH;
        System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
        return List.of(batch(input, values.apply(BATCH * per, 100L), shape), batch(input, values.apply(BATCH * per, 101L),
                shape), batch(input, values.apply(BATCH * per, 102L), shape));
    }

    private static InputBatch batch(String input, float[] data, long[] shape) {
        return new InputBatch("calibration", Map.of(input, InputTensor.ofFloats(data, shape)), null);
    }

    private static OnnxMl.ModelProto quantized(OnnxMl.ModelProto model, DynamicQuantizer.Plan plan,
                                               List<InputBatch> calibration, Calibration method) {
        ActivationStatistics stats = ActivationStatistics.collect(model, StaticQuantizer.calibrationTensors(model, plan),
                calibration, 1);
        return StaticQuantizer.quantize(model, plan, Granularity.CHANNEL, stats.quantizations(method, 99.99));
    }

    @Test
    void transformerBlockRunsQLinearMatMulAndAgreesWithFloatOnOtherInputs() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.transformerBlock();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of(), StaticQuantizer.PAYS);
        assertEquals(DynamicQuantizer.plan(model, Set.of()).candidates(), plan.candidates(),
                "the same candidates and reasons as dynamic mode: attention float, the 64x4 head too small");
        assertEquals(17, plan.opsetAfter());
        Set<String> tensors = StaticQuantizer.calibrationTensors(model, plan);
        assertTrue(tensors.contains("relu_1"), "w1's Relu output is what w1 writes: " + tensors);
        assertFalse(tensors.contains("matmul_7"), "not the MatMul output the Relu reads: " + tensors);
        OnnxMl.ModelProto q = quantized(model, plan, calibration("x", new long[]{TestGraphs.SEQ, TestGraphs.DIM},
                DynamicQuantizerTest::gaussian), Calibration.MINMAX);
        assertEquals(model.getGraph().getInputList(), q.getGraph().getInputList());
        assertEquals(model.getGraph().getOutputList(), q.getGraph().getOutputList());
        assertTrue(q.getSerializedSize() < model.getSerializedSize() * 0.45);
        List<String> ops = optimizedNodes(q, ALL, dir).stream().map(OnnxMl.NodeProto::getOpType).toList();
        assertEquals(6, ops.stream().filter("QLinearMatMul"::equals).count(), ops.toString());
        assertFalse(ops.contains("Relu"), "the Relu after w1 runs inside its kernel: " + ops);

        Map<String, float[]> in = Map.of("x", gaussian(BATCH * TestGraphs.SEQ * TestGraphs.DIM, 4));
        Agreement y = agreement(model, q, in, Map.of("x", blockShape(BATCH)), "y");
        // Measured (ORT 1.29, AMD EPYC with AVX-512 VNNI): cosine 0.99963, relative L2 error 0.027, max |error| 1.17.
        assertTrue(y.cosine() > 0.999, y.toString());
        assertTrue(y.relativeL2() < 0.05, y.toString());
        Agreement head = agreement(model, q, in, Map.of("x", blockShape(BATCH)), "head");
        assertTrue(head.cosine() > 0.999, head.toString());
    }

    @Test
    void cnnQuantizesItsFirstConvolutionTooAndWritesFloatLogits() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.cnn();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of(), StaticQuantizer.PAYS);
        assertEquals(3, plan.quantizedCount(), "the 3-channel first Conv pays as QLinearConv: " + plan.candidates());
        OnnxMl.ModelProto q = quantized(model, plan, calibration("image", new long[]{3, 16, 16},
                DynamicQuantizerTest::uniform), Calibration.MINMAX);
        List<OnnxMl.NodeProto> nodes = optimizedNodes(q, ALL, dir);
        List<String> ops = nodes.stream().map(OnnxMl.NodeProto::getOpType).toList();
        assertEquals(2, ops.stream().filter("QLinearConv"::equals).count(), ops.toString());
        assertFalse(ops.contains("Conv") || ops.contains("Relu") || ops.contains("DequantizeLinear"),
                "uint8 from the input's QuantizeLinear to QGemm, max pooling on codes: " + ops);
        OnnxMl.NodeProto last = nodes.get(nodes.size() - 1);
        assertEquals("QGemm", last.getOpType());
        assertEquals(List.of("logits"), last.getOutputList(), "QGemm writes the float logits itself");

        Map<String, float[]> in = Map.of("image", uniform(BATCH * 3 * 16 * 16, 7));
        Agreement a = agreement(model, q, in, Map.of("image", new long[]{BATCH, 3, 16, 16}), "logits");
        // Measured: cosine 0.99997, relative L2 error 0.0075, max |error| 0.022, top-1 agreement 16 of 16.
        assertTrue(a.cosine() > 0.9999, a.toString());
        assertTrue(a.relativeL2() < 0.02, a.toString());
        assertEquals(1.0, a.top1(), a.toString());

        // The Relu outputs start at 0, and so does their quantization: zero point 0.
        ActivationStatistics stats = ActivationStatistics.collect(model, StaticQuantizer.calibrationTensors(model, plan),
                calibration("image", new long[]{3, 16, 16}, DynamicQuantizerTest::uniform), 1);
        assertEquals(0, stats.quantizations(Calibration.ENTROPY, 99.99).get("relu_1").zeroPoint());

        // With the first Conv float (a budget variant), its pooled output is read through its own range.
        DynamicQuantizer.Plan kept = DynamicQuantizer.plan(model, Set.of("conv_1_node"), StaticQuantizer.PAYS);
        OnnxMl.ModelProto q2 = StaticQuantizer.quantize(model, kept, Granularity.CHANNEL,
                stats.quantizations(Calibration.MINMAX, 99.99));
        assertTrue(operators(q2, ALL, dir).contains("QLinearConv"));
        assertTrue(agreement(model, q2, in, Map.of("image", new long[]{BATCH, 3, 16, 16}), "logits").cosine() > 0.9999);
    }

    @Test
    void int64TokenIdsPassThroughAndTheGemmWritesTheFloatSentence() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.tokenModel();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of(), StaticQuantizer.PAYS);
        assertEquals(2, plan.quantizedCount(), plan.candidates().toString());
        Random r = new Random(9);
        List<InputBatch> calibration = new java.util.ArrayList<>();
        for (int b = 0; b < 3; b++) calibration.add(new InputBatch("calibration", Map.of("input_ids",
                InputTensor.ofLongs(tokens(r, BATCH), BATCH, TestGraphs.TOKENS)), null));
        OnnxMl.ModelProto q = quantized(model, plan, calibration, Calibration.ENTROPY);
        assertEquals(model.getGraph().getInputList(), q.getGraph().getInputList(), "int64 input_ids untouched");
        Set<String> ops = operators(q, ALL, dir);
        assertTrue(ops.contains("QLinearMatMul") && ops.contains("QGemm"), ops.toString());
        long[] ids = tokens(new Random(6), BATCH);
        Agreement a = Agreement.of(DynamicQuantizerTest.runLongs(model, ids), DynamicQuantizerTest.runLongs(q, ids));
        // Measured: cosine 0.99999999, relative L2 error 1.5e-4, max |error| 0.0011.
        assertTrue(a.cosine() > 0.9999, a.toString());
        assertTrue(a.relativeL2() < 0.002, a.toString());
    }

    @Test
    void tensorGranularityWritesOneScalePerWeight() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.cnn();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of(), StaticQuantizer.PAYS);
        ActivationStatistics stats = ActivationStatistics.collect(model, StaticQuantizer.calibrationTensors(model, plan),
                calibration("image", new long[]{3, 16, 16}, DynamicQuantizerTest::uniform), 1);
        OnnxMl.ModelProto q = StaticQuantizer.quantize(model, plan, Granularity.TENSOR,
                stats.quantizations(Calibration.MINMAX, 99.99));
        for (OnnxMl.TensorProto t : q.getGraph().getInitializerList()) {
            if (t.getName().startsWith("w_scale")) assertEquals(0, t.getDimsCount(), t.getName() + " is one scale");
        }
        assertTrue(q.getGraph().getInitializerList().stream().anyMatch(t -> t.getName().startsWith("w_int8")));
        Set<String> ops = operators(q, ALL, dir);
        assertTrue(ops.contains("QLinearConv") && ops.contains("QGemm"), ops.toString());
        Agreement a = agreement(model, q, Map.of("image", uniform(BATCH * 3 * 16 * 16, 7)),
                Map.of("image", new long[]{BATCH, 3, 16, 16}), "logits");
        // Measured: cosine 0.99997, relative L2 error 0.0079.
        assertTrue(a.cosine() > 0.9999, a.toString());
    }

    /**
     * On the outlier graph's input (Gaussian features, feature 0 at zero): percentile clips the rare tails minmax keeps,
     * entropy picks yet another range; all are observed on the same statistics.
     */
    @Test
    void eachCalibrationMethodPicksItsOwnRange() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.outlier();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of(), StaticQuantizer.PAYS);
        List<InputBatch> calibration = calibration("x", new long[]{TestGraphs.DIM}, DynamicQuantizerTest::gaussian);
        ActivationStatistics stats = ActivationStatistics.collect(model, StaticQuantizer.calibrationTensors(model, plan),
                calibration, 1);
        TensorStatistics.Range minmax = stats.range("x", Calibration.MINMAX, 99.99);
        TensorStatistics.Range p99 = stats.range("x", Calibration.PERCENTILE, 99);
        TensorStatistics.Range entropy = stats.range("x", Calibration.ENTROPY, 99.99);
        float[] all = new float[0];
        for (InputBatch b : calibration) {
            double[] d = b.inputs().get("x").toDoubles();
            float[] f = new float[all.length + d.length];
            System.arraycopy(all, 0, f, 0, all.length);
            for (int i = 0; i < d.length; i++) f[all.length + i] = (float) d[i];
            all = f;
        }
        float lo = Float.MAX_VALUE, hi = -Float.MAX_VALUE;
        for (float v : all) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        assertEquals(lo, minmax.lo(), 0, "minmax is the extremes of the calibration values");
        assertEquals(hi, minmax.hi(), 0);
        assertTrue(p99.lo() > minmax.lo() + 0.5 && p99.hi() < minmax.hi() - 0.5, p99 + " within " + minmax);
        // 99% of standard Gaussian values lie within +-2.58; feature 0 (1/64 of them) is 0.
        assertTrue(Math.abs(p99.hi() - 2.58) < 0.25 && Math.abs(p99.lo() + 2.58) < 0.25, p99.toString());
        // Measured on these 48 rows: minmax [-3.53, 4.10], percentile 99 [-2.48, 2.53], entropy [-3.53, 3.61].
        assertNotEquals(minmax, entropy);
        assertTrue(entropy.hi() < minmax.hi(), entropy + " vs " + minmax);
        ActivationQuant q = stats.quantizations(Calibration.PERCENTILE, 99).get("x");
        assertEquals(0f, q.dequantize(q.quantize(0f)), 0, "zero is exactly representable");
    }

    private static long[] tokens(Random r, int rows) {
        long[] t = new long[rows * (int) TestGraphs.TOKENS];
        for (int i = 0; i < t.length; i++) t[i] = r.nextInt((int) TestGraphs.VOCAB);
        return t;
    }
}
