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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
        assertTrue(unknown.getMessage().startsWith("--keep-float nope: no MatMul, Gemm, Conv or Gather node of that name; the "
                + "candidates are "), unknown.getMessage());
    }

    @Test
    void int64TokenIdsPassThroughAndTheEmbeddingTableIsStoredAsInt8() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.tokenModel();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of());
        assertEquals(List.of("Gather", "MatMul", "Gemm"), plan.candidates().stream().map(OnnxCandidate::op).toList());
        assertEquals(3, plan.quantizedCount());
        OnnxCandidate gather = plan.candidates().get(0);
        assertEquals("embedding", gather.weight());
        assertEquals(List.of(TestGraphs.VOCAB, TestGraphs.DIM), gather.weightShape());
        String rowsName = model.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Gather")).findFirst()
                .orElseThrow().getOutput(0);
        float[] table = DynamicQuantizer.floats(initializer(model, "embedding"));
        int dim = (int) TestGraphs.DIM;
        long tableBytes = (long) table.length * Float.BYTES;
        DynamicQuantizer.Plan tableFloat = DynamicQuantizer.plan(model, Set.of(gather.node()));
        long[] tokens = tokens(BATCH, 6);

        for (Granularity granularity : List.of(Granularity.CHANNEL, Granularity.TENSOR)) {
            OnnxMl.ModelProto q = DynamicQuantizer.quantize(model, plan, granularity).model();
            OnnxMl.ValueInfoProto ids = q.getGraph().getInput(0);
            assertEquals("input_ids", ids.getName());
            assertEquals(OnnxMl.TensorProto.DataType.INT64.getNumber(), ids.getType().getTensorType().getElemType());
            assertTrue(q.getGraph().getInitializerList().stream().noneMatch(t -> t.getName().equals("embedding")),
                    "the float table is gone");
            OnnxMl.TensorProto codes = initializer(q, "embedding_quantized");
            assertEquals(OnnxMl.TensorProto.DataType.INT8.getNumber(), codes.getDataType());
            assertEquals(List.of(TestGraphs.VOCAB, TestGraphs.DIM), codes.getDimsList());
            OnnxMl.TensorProto scale = initializer(q, "embedding_scale");
            boolean perRow = granularity == Granularity.CHANNEL;
            assertEquals(perRow ? List.of(TestGraphs.VOCAB, 1L) : List.of(), scale.getDimsList());
            assertEquals((perRow ? OnnxMl.TensorProto.DataType.FLOAT16 : OnnxMl.TensorProto.DataType.FLOAT).getNumber(),
                    scale.getDataType());
            assertEquals(perRow ? 0 : 1, q.getGraph().getNodeList().stream()
                    .filter(n -> n.getOpType().equals("DequantizeLinear")).count(), granularity.label());
            // Against the same plan with the table left float: what the table's codes save.
            long saved = DynamicQuantizer.quantize(model, tableFloat, granularity).model().getSerializedSize()
                    - q.getSerializedSize();
            // Measured: per row 18,543 bytes (0.724 of the table: 3/4 less its 100 float16 row scales and the extra
            // nodes); per tensor 18,992 (0.742).
            assertTrue(saved > 0.70 * tableBytes && saved < 0.75 * tableBytes,
                    granularity.label() + ": " + saved + " bytes saved of a " + tableBytes + "-byte table");

            // ONNX Runtime keeps the lookup in the codes: the int8 table is still there after its optimizations.
            OnnxMl.ModelProto optimized = optimized(q, OrtSession.SessionOptions.OptLevel.ALL_OPT, dir);
            assertTrue(optimized.getGraph().getNodeList().stream().anyMatch(n -> n.getOpType().equals("Gather")
                    && n.getInput(0).equals("embedding_quantized")), granularity.label());
            assertTrue(operators(q, OrtSession.SessionOptions.OptLevel.BASIC_OPT).contains("MatMulInteger"));

            // Every looked-up value within half its scale of the float one: max |row| / 127 per row (rounded up to a
            // float16, at most 2^-10 more), or the table's.
            float[] want = runLongs(withOutput(model, rowsName), tokens, rowsName);
            float[] got = runLongs(withOutput(q, rowsName), tokens, rowsName);
            float tableMax = 0;
            for (float v : table) tableMax = Math.max(tableMax, Math.abs(v));
            for (int t = 0; t < tokens.length; t++) {
                int row = (int) tokens[t];
                float rowMax = 0;
                for (int d = 0; d < dim; d++) rowMax = Math.max(rowMax, Math.abs(table[row * dim + d]));
                float half = perRow ? rowMax / 127 / 2 * (1 + 0x1p-10f) : tableMax / 127 / 2 * 1.0001f;
                for (int d = 0; d < dim; d++) {
                    int i = t * dim + d;
                    assertEquals(want[i], got[i], half, granularity.label() + ": token " + t + " (row " + row + "), " + d);
                }
            }
            Agreement a = Agreement.of(runLongs(model, tokens, "sentence"), runLongs(q, tokens, "sentence"));
            // Measured (the MatMul and Gemm int8 too): per row cosine 0.99999999, relative L2 error 1.4e-4; per tensor
            // 0.99999998, 1.7e-4.
            assertTrue(a.cosine > 0.99999, granularity.label() + ": " + a);
            assertTrue(a.relativeL2 < 0.001, granularity.label() + ": " + a);
        }
    }

    @Test
    void rowScalesRoundUpToTheNextFloat16() {
        for (float x : new float[]{1f, 0.0123f, 3.3e-4f, 6.1e-5f, 1e-6f, 1e-9f, 1000.7f}) {
            short h = DynamicQuantizer.float16Up(x);
            float up = DynamicQuantizer.float16ToFloat(h);
            assertTrue(up >= x, x + " -> " + up);
            assertTrue(DynamicQuantizer.float16ToFloat((short) (h - 1)) < x, x + ": the next float16 down is below");
            if (x >= 0x1p-14f) assertTrue(up <= x * (1 + 0x1p-10f), x + " -> " + up); // normal: 10 mantissa bits
        }
        assertEquals(0x3c00, DynamicQuantizer.float16Up(1f)); // exact values are kept
        assertEquals(1, DynamicQuantizer.float16Up(1e-9f)); // below the smallest float16: the smallest
    }

    /**
     * An id outside the table fails in ONNX Runtime as it does in the float model; a negative id counts from the end
     * in both, as ONNX's Gather says.
     */
    @Test
    void idsOutsideTheTableFailAsInTheFloatModelAndNegativeIdsCountFromTheEnd() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.tokenModel();
        OnnxMl.ModelProto q = DynamicQuantizer.quantize(model, DynamicQuantizer.plan(model, Set.of()), Granularity.CHANNEL)
                .model();
        for (long bad : new long[]{TestGraphs.VOCAB, -TestGraphs.VOCAB - 1}) {
            long[] tokens = tokens(2, 7);
            tokens[5] = bad;
            assertThrows(OrtException.class, () -> runLongs(model, tokens, "sentence"), "float, id " + bad);
            assertThrows(OrtException.class, () -> runLongs(q, tokens, "sentence"), "int8, id " + bad);
        }
        long[] tokens = tokens(BATCH, 8);
        long[] negative = tokens.clone();
        for (int i = 0; i < negative.length; i += 2) negative[i] -= TestGraphs.VOCAB;
        float[] int8 = runLongs(q, tokens, "sentence");
        assertArrayEquals(int8, runLongs(q, negative, "sentence"), "the same rows");
        assertArrayEquals(runLongs(model, tokens, "sentence"), runLongs(model, negative, "sentence"));
    }

    /**
     * A table the Gather shares with a Gemm that reads it as its weight (a tied output layer): both int8, the float
     * table goes. When the Gemm stays float, so does the Gather: the float table stays in the file anyway.
     */
    @Test
    void aTiedTableGoesInt8OnlyWhenEveryNodeReadingItDoes() throws Exception {
        OnnxMl.ModelProto model = TestGraphs.tiedEmbedding();
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(model, Set.of());
        assertEquals(List.of("Gather embedding true", "MatMul w true", "Gemm embedding true"), plan.candidates().stream()
                .map(c -> c.op() + " " + c.weight() + " " + c.quantized()).toList());
        long[] tokens = tokens(BATCH, 9);
        float[] want = runLongs(model, tokens, "scores");

        OnnxMl.ModelProto q = DynamicQuantizer.quantize(model, plan, Granularity.CHANNEL).model();
        assertTrue(q.getGraph().getInitializerList().stream().noneMatch(t -> t.getName().equals("embedding")));
        // The Gather's codes [100, 64] and the Gemm's, transposed to [64, 100] for MatMulInteger.
        assertEquals(List.of(TestGraphs.VOCAB, TestGraphs.DIM), initializer(q, "embedding_quantized").getDimsList());
        assertEquals(List.of(TestGraphs.DIM, TestGraphs.VOCAB), initializer(q, "embedding_quantized_2").getDimsList());
        // Measured: 20,613 of 43,052 bytes; cosine 0.99999993, relative L2 error 3.8e-4.
        assertTrue(q.getSerializedSize() < model.getSerializedSize() * 0.55, q.getSerializedSize() + " bytes");
        Agreement all = Agreement.of(want, runLongs(q, tokens, "scores"));
        assertTrue(all.cosine > 0.9999, all.toString());

        String gemm = plan.candidates().get(2).node();
        DynamicQuantizer.Plan kept = DynamicQuantizer.plan(model, Set.of(gemm));
        OnnxCandidate gather = kept.candidates().get(0);
        assertFalse(gather.quantized());
        assertEquals("the table is also read by " + gemm + " (Gemm, left float), so its float values stay: int8 codes "
                + "would add to the file", gather.reason());
        assertEquals(1, kept.quantizedCount());
        OnnxMl.ModelProto q2 = DynamicQuantizer.quantize(model, kept, Granularity.CHANNEL).model();
        assertEquals(OnnxMl.TensorProto.DataType.FLOAT.getNumber(), initializer(q2, "embedding").getDataType());
        assertTrue(Agreement.of(want, runLongs(q2, tokens, "scores")).cosine > 0.9999);

        // Each node measured alone (the sensitivity, or a budget leaving the Gemm float): the Gather int8 with the
        // Gemm float reads the codes while the Gemm reads the float table, both in the file.
        DynamicQuantizer.Plan gatherAlone = plan.with(List.of(plan.candidates().get(0),
                plan.candidates().get(1).leftFloat("measured alone"), plan.candidates().get(2).leftFloat("measured alone")));
        OnnxMl.ModelProto q3 = DynamicQuantizer.quantize(model, gatherAlone, Granularity.CHANNEL).model();
        assertEquals(OnnxMl.TensorProto.DataType.FLOAT.getNumber(), initializer(q3, "embedding").getDataType());
        assertEquals(OnnxMl.TensorProto.DataType.INT8.getNumber(), initializer(q3, "embedding_quantized").getDataType());
        assertTrue(Agreement.of(want, runLongs(q3, tokens, "scores")).cosine > 0.9999);
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
        return optimized(model, level, dir).getGraph().getNodeList();
    }

    /** ONNX Runtime's optimized graph at {@code level}, written into {@code dir}. */
    static OnnxMl.ModelProto optimized(OnnxMl.ModelProto model, OrtSession.SessionOptions.OptLevel level, Path dir)
            throws Exception {
        Path optimized = dir.resolve("optimized-" + level + ".onnx");
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setOptimizationLevel(level);
            o.setOptimizedModelFilePath(optimized.toString());
            ENV.createSession(model.toByteArray(), o).close();
        }
        return OnnxMl.ModelProto.parseFrom(Files.readAllBytes(optimized));
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

    /** The first output for the token ids, {@code TOKENS} per row. */
    static float[] runLongs(OnnxMl.ModelProto model, long[] tokens) throws OrtException {
        return runLongs(model, tokens, model.getGraph().getOutput(0).getName());
    }

    /** {@code output} for the token ids, {@code TOKENS} per row. */
    private static float[] runLongs(OnnxMl.ModelProto model, long[] tokens, String output) throws OrtException {
        try (OrtSession s = ENV.createSession(model.toByteArray(), new OrtSession.SessionOptions());
             OnnxTensor ids = OnnxTensor.createTensor(ENV, LongBuffer.wrap(tokens),
                     new long[]{tokens.length / TestGraphs.TOKENS, TestGraphs.TOKENS});
             OrtSession.Result r = s.run(Map.of("input_ids", ids), Set.of(output))) {
            return flat(r.get(0));
        }
    }

    /** {@code rows} × TOKENS seeded token ids in [0, VOCAB). */
    private static long[] tokens(int rows, long seed) {
        long[] tokens = new long[rows * (int) TestGraphs.TOKENS];
        Random r = new Random(seed);
        for (int i = 0; i < tokens.length; i++) tokens[i] = r.nextInt((int) TestGraphs.VOCAB);
        return tokens;
    }

    /** {@code model} with the float value {@code name} made an output too (of unknown shape). */
    private static OnnxMl.ModelProto withOutput(OnnxMl.ModelProto model, String name) {
        OnnxMl.ValueInfoProto v = OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(OnnxMl.TensorProto.DataType.FLOAT
                        .getNumber()))).build();
        return model.toBuilder().setGraph(model.getGraph().toBuilder().addOutput(v)).build();
    }

    private static OnnxMl.TensorProto initializer(OnnxMl.ModelProto model, String name) {
        return model.getGraph().getInitializerList().stream().filter(t -> t.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no initializer " + name));
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
