package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.squeeze.compress.quant.Granularity;
import dev.squeeze.core.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dynamic quantization of graphs built with the project's ONNX builder, each run in real ONNX Runtime sessions: the
 * candidates report, the integer kernels after ORT's optimizations, and agreement with the float graph on seeded
 * random inputs (figures computed here, not by the code under test).
 */
class DynamicQuantizerTest {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    private static final int BATCH = 16;

    @TempDir
    Path dir;

    @Test
    void transformerBlockQuantizesItsWeightsAndLeavesAttentionFloat() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.transformerBlock();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of());
        Map<String, OnnxCandidate> byWeight = new HashMap<>();
        List<OnnxCandidate> activations = new ArrayList<>();
        for (OnnxCandidate c : plan.candidates()) {
            if (c.weight() == null) activations.add(c);
            else byWeight.put(c.weight(), c);
        }
        assertEquals(9, plan.candidates().size(), plan.candidates().toString());
        for (String w : List.of("wq", "wk", "wv", "wo", "w1", "w2")) {
            assertTrue(byWeight.get(w).quantized(), w + ": " + byWeight.get(w));
        }
        assertEquals(List.of(128L, 64L), byWeight.get("w2").weightShape());
        assertFalse(byWeight.get("w_head").quantized());
        assertEquals("too small to pay: 256 weights < 1024", byWeight.get("w_head").reason());
        assertEquals(2, activations.size(), "scores and context are activation x activation");
        for (OnnxCandidate c : activations) {
            assertFalse(c.quantized());
            assertEquals("MatMul", c.op());
            assertEquals(DynamicQuantizer.ACTIVATIONS, c.reason());
        }

        OnnxMl.ModelProto q = DynamicQuantizer.quantize(model, plan, Granularity.CHANNEL).model();
        assertEquals(model.getGraph().getInputList(), q.getGraph().getInputList());
        assertEquals(model.getGraph().getOutputList(), q.getGraph().getOutputList());
        assertEquals(17, DynamicQuantizer.defaultOpset(q));
        // The three projections read the same normalised activation: it is quantized once.
        assertEquals(4, q.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("DynamicQuantizeLinear")).count());
        assertTrue(q.getSerializedSize() < model.getSerializedSize() * 0.45,
                q.getSerializedSize() + " vs " + model.getSerializedSize());

        assertTrue(operators(q, OrtSession.SessionOptions.OptLevel.BASIC_OPT).contains("MatMulInteger"));
        assertTrue(operators(q, OrtSession.SessionOptions.OptLevel.EXTENDED_OPT).contains("DynamicQuantizeMatMul"));

        Map<String, float[]> inputs = Map.of("x", gaussian(BATCH * TestGraphs.SEQ * TestGraphs.DIM, 4));
        Agreement y = agreement(model, q, inputs, Map.of("x", new long[]{BATCH, TestGraphs.SEQ, TestGraphs.DIM}), "y");
        // Measured (ORT 1.29, AVX-512 without VNNI): cosine 0.9998, max |error| 0.22, relative L2 error 0.019.
        assertTrue(y.cosine > 0.999, y.toString());
        assertTrue(y.maxAbs < 0.5, y.toString());
        assertTrue(y.relativeL2 < 0.04, y.toString());
        Agreement head = agreement(model, q, inputs, Map.of("x", new long[]{BATCH, TestGraphs.SEQ, TestGraphs.DIM}), "head");
        assertTrue(head.cosine > 0.999, head.toString());
    }

    @Test
    void keepFloatNamesANodeAndTensorGranularityHasOneScale() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.transformerBlock();
        String w1 = DynamicQuantizer.plan(model, Set.of()).candidates().stream().filter(c -> "w1".equals(c.weight()))
                .findFirst().orElseThrow().node();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of(w1));
        OnnxCandidate kept = plan.candidates().stream().filter(c -> c.node().equals(w1)).findFirst().orElseThrow();
        assertFalse(kept.quantized());
        assertEquals("--keep-float", kept.reason());
        assertEquals(5, plan.quantizedCount());
        OnnxMl.ModelProto q = DynamicQuantizer.quantize(model, plan, Granularity.TENSOR).model();
        assertTrue(q.getGraph().getInitializerList().stream().anyMatch(t -> t.getName().equals("w1")), "w1 stays float");
        for (OnnxMl.TensorProto t : q.getGraph().getInitializerList()) {
            if (t.getName().endsWith("_scale")) assertEquals(0, t.getDimsCount(), t.getName() + " is one scale");
        }
        Agreement y = agreement(model, q, Map.of("x", gaussian(BATCH * TestGraphs.SEQ * TestGraphs.DIM, 5)),
                Map.of("x", new long[]{BATCH, TestGraphs.SEQ, TestGraphs.DIM}), "y");
        assertTrue(y.cosine > 0.999, y.toString());

        var unknown = assertThrows(BadInputException.class, () -> DynamicQuantizer.plan(model, Set.of("nope")));
        assertTrue(unknown.getMessage().startsWith("--keep-float nope: no MatMul, Gemm or Conv node of that name; the "
                + "candidates are "), unknown.getMessage());
    }

    @Test
    void int64TokenIdsPassThroughAndGemmIsQuantizedWithItsBias() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.tokenModel();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of());
        assertEquals(List.of("MatMul", "Gemm"), plan.candidates().stream().map(OnnxCandidate::op).toList());
        assertEquals(2, plan.quantizedCount());
        OnnxMl.ModelProto q = DynamicQuantizer.quantize(model, plan, Granularity.CHANNEL).model();
        OnnxMl.ValueInfoProto ids = q.getGraph().getInput(0);
        assertEquals("input_ids", ids.getName());
        assertEquals(OnnxMl.TensorProto.DataType.INT64.getNumber(), ids.getType().getTensorType().getElemType());
        assertTrue(q.getGraph().getInitializerList().stream().anyMatch(t -> t.getName().equals("embedding")
                && t.getDataType() == OnnxMl.TensorProto.DataType.FLOAT.getNumber()), "the embedding table stays float");
        assertTrue(operators(q, OrtSession.SessionOptions.OptLevel.BASIC_OPT).contains("MatMulInteger"));

        long[] tokens = new long[BATCH * (int) TestGraphs.TOKENS];
        Random r = new Random(6);
        for (int i = 0; i < tokens.length; i++) tokens[i] = r.nextInt((int) TestGraphs.VOCAB);
        float[] want = runLongs(model, tokens);
        float[] got = runLongs(q, tokens);
        Agreement a = Agreement.of(want, got);
        // Measured: cosine 0.99999999, relative L2 error 1.3e-4.
        assertTrue(a.cosine > 0.9999, a.toString());
        assertTrue(a.relativeL2 < 0.01, a.toString());
    }

    @Test
    void convQuantizedWhereItPays() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.cnn();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of());
        List<String> summary = plan.candidates().stream().map(c -> c.op() + " " + c.weightShape() + " " + c.quantized()
                + (c.reason() == null ? "" : " " + c.reason())).toList();
        assertEquals(List.of("Conv [8, 3, 3, 3] false too small to pay: 27 inputs per output < 64",
                "Conv [16, 8, 3, 3] true", "Gemm [256, 10] true"), summary);
        OnnxMl.ModelProto q = DynamicQuantizer.quantize(model, plan, Granularity.CHANNEL).model();
        Set<String> ops = operators(q, OrtSession.SessionOptions.OptLevel.EXTENDED_OPT);
        assertTrue(ops.contains("ConvInteger"), ops.toString());
        assertTrue(q.getSerializedSize() < model.getSerializedSize() * 0.5);
        Map<String, float[]> in = Map.of("image", uniform(BATCH * 3 * 16 * 16, 7));
        Agreement a = agreement(model, q, in, Map.of("image", new long[]{BATCH, 3, 16, 16}), "logits");
        // Measured: cosine 0.99998, max |error| 0.02, relative L2 error 0.007, top-1 agreement 16 of 16.
        assertTrue(a.cosine > 0.9995, a.toString());
        assertTrue(a.relativeL2 < 0.03, a.toString());
        assertEquals(1.0, a.top1, a.toString());
    }

    /** Node names are optional in ONNX: a node without one is known (and reported) by its first output. */
    @Test
    void nodesWithoutNamesAreKnownByTheirOutput() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.transformerBlock();
        OnnxMl.GraphProto.Builder g = model.getGraph().toBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) g.setNode(i, g.getNode(i).toBuilder().clearName());
        OnnxMl.ModelProto renamed = model.toBuilder().setGraph(g).build();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(renamed, Set.of());
        assertEquals(6, plan.quantizedCount());
        assertEquals("matmul_7", plan.candidates().stream().filter(c -> "w1".equals(c.weight())).findFirst().orElseThrow()
                .node());
        OnnxMl.ModelProto q = DynamicQuantizer.quantize(renamed, plan, Granularity.CHANNEL).model();
        assertEquals(6, q.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("MatMulInteger")).count());
        Agreement y = agreement(model, q, Map.of("x", gaussian(BATCH * TestGraphs.SEQ * TestGraphs.DIM, 8)),
                Map.of("x", new long[]{BATCH, TestGraphs.SEQ, TestGraphs.DIM}), "y");
        assertTrue(y.cosine > 0.999, y.toString());
    }

    @Test
    void refusesQuantizedGraphsAndGraphsWithNothingToQuantize() {
        OnnxMl.ModelProto model = TestGraphs.transformerBlock();
        OnnxMl.ModelProto q = DynamicQuantizer.quantize(model, DynamicQuantizer.plan(model, Set.of()), Granularity.CHANNEL)
                .model();
        var again = assertThrows(BadInputException.class, () -> DynamicQuantizer.plan(q, Set.of()));
        assertTrue(again.getMessage().startsWith("the model is already quantized (node '"), again.getMessage());
        var none = assertThrows(BadInputException.class, () -> DynamicQuantizer.plan(model, names(model)));
        assertTrue(none.getMessage().startsWith("no node of the model is worth quantizing: "), none.getMessage());
    }

    private static Set<String> names(OnnxMl.ModelProto model) {
        Set<String> all = new TreeSet<>();
        for (OnnxCandidate c : DynamicQuantizer.plan(model, Set.of()).candidates()) if (c.quantized()) all.add(c.node());
        return all;
    }

    private Set<String> operators(OnnxMl.ModelProto model, OrtSession.SessionOptions.OptLevel level) throws Exception {
        return operators(model, level, dir);
    }

    /** The operators in ONNX Runtime's optimized graph at {@code level} (the graph written into {@code dir}). */
    static Set<String> operators(OnnxMl.ModelProto model, OrtSession.SessionOptions.OptLevel level, Path dir)
            throws Exception {
        return new TreeSet<>(optimizedNodes(model, level, dir).stream().map(OnnxMl.NodeProto::getOpType).toList());
    }

    /** The nodes of ONNX Runtime's optimized graph at {@code level}, in order. */
    static List<OnnxMl.NodeProto> optimizedNodes(OnnxMl.ModelProto model, OrtSession.SessionOptions.OptLevel level,
                                                 Path dir) throws Exception {
        Path optimized = dir.resolve("optimized-" + level + ".onnx");
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(level);
            o.setOptimizedModelFilePath(optimized.toString());
            ENV.createSession(model.toByteArray(), o).close();
        }
        return OnnxMl.ModelProto.parseFrom(Files.readAllBytes(optimized)).getGraph().getNodeList();
    }

    static Agreement agreement(OnnxMl.ModelProto reference, OnnxMl.ModelProto candidate,
                                       Map<String, float[]> inputs, Map<String, long[]> shapes, String output)
            throws OrtException {
        float[] want = run(reference, inputs, shapes, output);
        float[] got = run(candidate, inputs, shapes, output);
        Agreement a = Agreement.of(want, got);
        if (output.equals("logits")) a = a.withTop1(want, got, 10);
        return a;
    }

    static float[] run(OnnxMl.ModelProto model, Map<String, float[]> inputs, Map<String, long[]> shapes,
                               String output) throws OrtException {
        try (OrtSession s = ENV.createSession(model.toByteArray(), new OrtSession.SessionOptions())) {
            Map<String, OnnxTensor> feed = new HashMap<>();
            try {
                for (var e : inputs.entrySet()) {
                    feed.put(e.getKey(), OnnxTensor.createTensor(ENV, FloatBuffer.wrap(e.getValue()), shapes.get(e.getKey())));
                }
                try (OrtSession.Result r = s.run(feed, Set.of(output))) {
                    return flat(r.get(0));
                }
            } finally {
                feed.values().forEach(OnnxTensor::close);
            }
        }
    }

    static float[] runLongs(OnnxMl.ModelProto model, long[] tokens) throws OrtException {
        try (OrtSession s = ENV.createSession(model.toByteArray(), new OrtSession.SessionOptions());
             OnnxTensor ids = OnnxTensor.createTensor(ENV, LongBuffer.wrap(tokens), new long[]{BATCH, TestGraphs.TOKENS});
             OrtSession.Result r = s.run(Map.of("input_ids", ids))) {
            return flat(r.get(0));
        }
    }

    private static float[] flat(OnnxValue v) {
        FloatBuffer b = ((OnnxTensor) v).getFloatBuffer();
        float[] out = new float[b.remaining()];
        b.get(out);
        return out;
    }

    static float[] gaussian(long n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    static float[] uniform(long n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = r.nextFloat();
        return v;
    }

    /** Cosine similarity, max absolute error, relative L2 error, and (for class scores) top-1 agreement. */
    record Agreement(double cosine, double maxAbs, double relativeL2, double top1) {
        static Agreement of(float[] want, float[] got) {
            double dot = 0, ww = 0, gg = 0, err = 0, max = 0;
            for (int i = 0; i < want.length; i++) {
                dot += (double) want[i] * got[i];
                ww += (double) want[i] * want[i];
                gg += (double) got[i] * got[i];
                double d = got[i] - want[i];
                err += d * d;
                max = Math.max(max, Math.abs(d));
            }
            return new Agreement(dot / Math.sqrt(ww * gg), max, Math.sqrt(err / ww), Double.NaN);
        }

        Agreement withTop1(float[] want, float[] got, int classes) {
            int agree = 0;
            int rows = want.length / classes;
            for (int i = 0; i < rows; i++) if (argmax(want, i * classes, classes) == argmax(got, i * classes, classes)) agree++;
            return new Agreement(cosine, maxAbs, relativeL2, (double) agree / rows);
        }

        private static int argmax(float[] v, int from, int n) {
            int best = 0;
            for (int i = 1; i < n; i++) if (v[from + i] > v[from + best]) best = i;
            return best;
        }
    }
}
