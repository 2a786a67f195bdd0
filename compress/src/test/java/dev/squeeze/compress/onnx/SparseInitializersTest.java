package dev.squeeze.compress.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.squeeze.compress.network.ActivationQuant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sparse initializers on three-layer graphs built with {@link OnnxGraph} (784-64-32-4, float Gemm or int8 QDQ as
 * the exporter writes them), run in real ONNX Runtime sessions: the sparse file computes what the dense one does, bit
 * for bit, and is smaller; a dense model is not touched.
 */
class SparseInitializersTest {
    private static final int[] SIZES = {784, 64, 32, 4};
    private static final int ROWS = 64;

    @TempDir
    Path tmp;

    /**
     * Weights [in, out] per layer with about {@code density} of them non-zero, from a fixed seed; the zeros are
     * what a pruning mask leaves, {@code w * 0}: {@code -0.0} where the weight was negative.
     */
    private static float[][] weights(double density) {
        Random r = new Random(19);
        float[][] w = new float[SIZES.length - 1][];
        for (int l = 0; l < w.length; l++) {
            w[l] = new float[SIZES[l] * SIZES[l + 1]];
            for (int i = 0; i < w[l].length; i++) {
                float value = (float) r.nextGaussian() * 0.1f;
                w[l][i] = r.nextDouble() < density ? value : value * 0f;
            }
        }
        return w;
    }

    private static String finish(OnnxGraph g, String logits) {
        return g.output(OnnxExporter.LOGITS, logits, DataType.FLOAT, -1, SIZES[SIZES.length - 1]);
    }

    private static OnnxMl.ModelProto floatModel(float[][] w) {
        OnnxGraph g = new OnnxGraph("float-mlp");
        String x = g.input(OnnxExporter.INPUT, DataType.FLOAT, -1, SIZES[0]);
        for (int l = 0; l < w.length; l++) {
            float[] bias = new float[SIZES[l + 1]];
            for (int j = 0; j < bias.length; j++) bias[j] = 0.01f * (j + 1);
            x = g.gemm(x, g.floats(g.fresh("w"), w[l], SIZES[l], SIZES[l + 1]), g.floats(g.fresh("b"), bias, bias.length));
            if (l < w.length - 1) x = g.relu(x);
        }
        finish(g, x);
        return g.model(8, 17, "test", "", Map.of());
    }

    /** The same layers in QDQ: int8 codes of {@code w} with one scale per output channel, uint8 activations. */
    private static OnnxMl.ModelProto int8Model(float[][] w) {
        OnnxGraph g = new OnnxGraph("int8-mlp");
        String x = g.input(OnnxExporter.INPUT, DataType.FLOAT, -1, SIZES[0]);
        ActivationQuant q = new ActivationQuant(1f / 255, 0);
        String codes = QdqNodes.quantize(g, x, q);
        for (int l = 0; l < w.length; l++) {
            int in = SIZES[l];
            int out = SIZES[l + 1];
            float[] scales = new float[out];
            java.util.Arrays.fill(scales, 0.5f / 127);
            byte[] wq = new byte[w[l].length];
            for (int i = 0; i < wq.length; i++) wq[i] = (byte) Math.max(-127, Math.min(127, Math.round(w[l][i] / scales[i % out])));
            int[] bias = new int[out];
            for (int j = 0; j < out; j++) bias[j] = 3 * j - 40;
            QdqNodes.Int8Weight weight = QdqNodes.int8Weight(g, wq, new long[]{in, out}, scales, 1, true);
            String y = g.gemm(QdqNodes.dequantize(g, codes, q), weight.dequantized(), QdqNodes.int32Bias(g, bias, q.scale(), weight));
            if (l == w.length - 1) {
                finish(g, y);
                break;
            }
            q = new ActivationQuant(0.05f, 0);
            codes = QdqNodes.quantize(g, g.relu(y), q);
        }
        return g.model(8, 17, "test", "", Map.of());
    }

    private static float[] inputs() {
        Random r = new Random(7);
        float[] x = new float[ROWS * SIZES[0]];
        for (int i = 0; i < x.length; i++) x[i] = r.nextFloat();
        return x;
    }

    /** The logits ONNX Runtime computes for {@link #inputs()}. */
    private static float[][] run(OnnxMl.ModelProto model) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxRuntimeModel ort = new OnnxRuntimeModel(model.toByteArray(), 1);
             OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(inputs()), new long[]{ROWS, SIZES[0]});
             OrtSession.Result result = ort.run(Map.of(OnnxExporter.INPUT, x))) {
            return (float[][]) result.get(0).getValue();
        }
    }

    private static void assertSameOutputs(OnnxMl.ModelProto dense, OnnxMl.ModelProto sparse) throws Exception {
        float[][] want = run(dense);
        float[][] got = run(sparse);
        assertEquals(ROWS, got.length);
        for (int i = 0; i < ROWS; i++) assertArrayEquals(want[i], got[i], "row " + i + ": the densified graph is the dense one");
    }

    private static Set<String> names(List<SparseInitializers.SparseTensor> tensors) {
        return tensors.stream().map(SparseInitializers.SparseTensor::name).collect(Collectors.toSet());
    }

    /** The integer kernels in ONNX Runtime's optimized graph of {@code model}. */
    private List<String> integerKernels(OnnxMl.ModelProto model) throws Exception {
        return ExportService.kernels(optimized(model));
    }

    /** ONNX Runtime's optimized graph of {@code model}. */
    private OnnxMl.GraphProto optimized(OnnxMl.ModelProto model) throws Exception {
        Path optimized = Files.createTempFile(tmp, "optimized-", ".onnx");
        new OnnxRuntimeModel(model.toByteArray(), new long[]{SIZES[0]}, 1, optimized).close();
        return OnnxMl.ModelProto.parseFrom(Files.readAllBytes(optimized)).getGraph();
    }

    /** Every operator of ONNX Runtime's optimized graph of {@code model}, in order. */
    private List<String> optimizedOperators(OnnxMl.ModelProto model) throws Exception {
        return optimized(model).getNodeList().stream().map(OnnxMl.NodeProto::getOpType).toList();
    }

    @Test
    void floatWeightsAtTenPercentGoSparseWithTheSmallestIndicesAndComputeTheSameOutputs() throws Exception {
        OnnxMl.ModelProto dense = floatModel(weights(0.1));
        SparseInitializers.Result sparse = SparseInitializers.apply(dense, SparseStorage.AUTO);
        List<SparseInitializers.SparseTensor> moved = sparse.tensors();
        assertEquals(Set.of("w_1", "w_2", "w_3"), names(moved), "the weights; the dense biases stay");
        // 784x64 elements would need int32 indices: in two parts (512 and 272 rows) they take int16 ones; 64x32 has
        // int16 indices whole, 32x4 (at most index 127) int8.
        assertEquals(List.of("INT16", "INT16", "INT8"), moved.stream().map(SparseInitializers.SparseTensor::indexType).toList());
        assertEquals(List.of(2, 1, 1), moved.stream().map(SparseInitializers.SparseTensor::parts).toList());
        OnnxMl.GraphProto g = sparse.model().getGraph();
        assertEquals(4, g.getSparseInitializerCount());
        assertEquals(3, g.getInitializerCount());
        assertEquals(List.of(512L, 64L), g.getSparseInitializer(0).getDimsList());
        assertEquals(List.of(272L, 64L), g.getSparseInitializer(1).getDimsList());
        OnnxMl.NodeProto concat = g.getNode(0);
        assertEquals("Concat", concat.getOpType());
        assertEquals(List.of("w_1_part1", "w_1_part2"), concat.getInputList());
        assertEquals(List.of("w_1"), concat.getOutputList(), "the parts join under the weight's name");
        for (SparseInitializers.SparseTensor t : moved) {
            assertEquals("Gemm", t.reader());
            assertEquals("FLOAT", t.type());
            assertTrue(t.density() > 0.05 && t.density() < 0.15, "-0.0 is a zero: " + t);
            assertTrue(t.sparseBytes() < t.denseBytes(), t.toString());
        }
        long saved = moved.stream().mapToLong(SparseInitializers.SparseTensor::savedBytes).sum();
        long fileSaved = dense.getSerializedSize() - sparse.model().getSerializedSize();
        assertTrue(Math.abs(fileSaved - saved) <= 2 * moved.size(), "the file shrinks by what the tensors save: "
                + fileSaved + " vs " + saved);
        assertTrue(sparse.model().getSerializedSize() < 0.5 * dense.getSerializedSize(),
                sparse.model().getSerializedSize() + " vs " + dense.getSerializedSize());
        assertSameOutputs(dense, sparse.model());
    }

    @Test
    void int64IndicesAsTheOnnxStandardNamesThemAreLargerAndComputeTheSame() throws Exception {
        OnnxMl.ModelProto dense = floatModel(weights(0.1));
        SparseInitializers.Result smallest = SparseInitializers.apply(dense, SparseStorage.AUTO);
        SparseInitializers.Result int64 = SparseInitializers.apply(dense, SparseStorage.INT64);
        assertEquals(names(smallest.tensors()), names(int64.tensors()));
        assertTrue(int64.tensors().stream().allMatch(t -> t.indexType().equals("INT64")), int64.tensors().toString());
        assertTrue(smallest.model().getSerializedSize() < int64.model().getSerializedSize()
                && int64.model().getSerializedSize() < dense.getSerializedSize());
        assertSameOutputs(dense, int64.model());
    }

    /**
     * At 70% non-zero a float costs 4 bytes dense and 0.7 × (4 + index) sparse: larger with int16 indices (4.2, the
     * 784x64 layer in parts and the 64x32 whole), smaller with int8 ones (3.5, the 32x4 layer). The rule is the
     * serialized size: only the 32x4 layer goes sparse.
     */
    @Test
    void aWeightGoesSparseOnlyWhereThatIsSmaller() throws Exception {
        OnnxMl.ModelProto dense = floatModel(weights(0.7));
        SparseInitializers.Result sparse = SparseInitializers.apply(dense, SparseStorage.AUTO);
        assertEquals(Set.of("w_3"), names(sparse.tensors()), sparse.tensors().toString());
        assertSameOutputs(dense, sparse.model());
        assertTrue(SparseInitializers.apply(dense, SparseStorage.INT64).tensors().isEmpty(),
                "with 8-byte indices no layer at 70% is smaller sparse");
    }

    /**
     * A weight of more than 32,768 elements in parts of int16 indices is smaller than whole with int32 ones (at 10%:
     * 6 bytes a float value against 8), and computes the same; with int64 indices no weight is split.
     */
    @Test
    void partsWithTwoByteIndicesAreSmallerThanTheWholeWeightWithFourByteOnes() throws Exception {
        OnnxMl.ModelProto dense = floatModel(weights(0.1));
        SparseInitializers.SparseTensor parted = SparseInitializers.apply(dense, SparseStorage.AUTO).tensors().get(0);
        OnnxMl.ModelProto withoutPartsPossible = dense.toBuilder().clearOpsetImport()
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(3)).build();
        SparseInitializers.SparseTensor whole = SparseInitializers.apply(withoutPartsPossible, SparseStorage.AUTO)
                .tensors().get(0);
        assertEquals(1, whole.parts(), "no Concat with an axis before opset 4: stored whole");
        assertEquals("INT32", whole.indexType());
        assertEquals(whole.nonzero(), parted.nonzero());
        long perValue = 4 + 2;
        assertTrue(parted.sparseBytes() < whole.sparseBytes() - whole.nonzero() * 2 + 200,
                "2 bytes saved a value, some for the Concat and the second part: " + parted + " vs " + whole);
        assertTrue(parted.sparseBytes() > parted.nonzero() * perValue, parted.toString());
        SparseInitializers.Result int64 = SparseInitializers.apply(dense, SparseStorage.INT64);
        assertTrue(int64.tensors().stream().allMatch(t -> t.parts() == 1), int64.tensors().toString());
        assertEquals(0, int64.model().getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Concat")).count());
    }

    @Test
    void int8QdqWeightsGoSparseAndOnnxRuntimeStillFusesThemIntoIntegerKernels() throws Exception {
        OnnxMl.ModelProto dense = int8Model(weights(0.1));
        SparseInitializers.Result sparse = SparseInitializers.apply(dense, SparseStorage.AUTO);
        assertEquals(Set.of("w_int8_1", "w_int8_2", "w_int8_3"), names(sparse.tensors()), sparse.tensors().toString());
        for (SparseInitializers.SparseTensor t : sparse.tensors()) {
            assertEquals("INT8", t.type());
            assertEquals("Gemm", t.reader(), "read through its DequantizeLinear");
        }
        // The weights' zero points are all zeros, and smaller sparse too: left dense, as every scale and zero point.
        Set<String> dense0 = sparse.model().getGraph().getInitializerList().stream().map(OnnxMl.TensorProto::getName)
                .collect(Collectors.toSet());
        assertTrue(dense0.containsAll(Set.of("w_zero_1", "w_zero_2", "w_zero_3", "w_scale_1", "b_int32_1")), dense0.toString());
        assertTrue(sparse.model().getSerializedSize() < 0.6 * dense.getSerializedSize());
        assertSameOutputs(dense, sparse.model());

        List<String> kernels = integerKernels(sparse.model());
        assertTrue(kernels.contains("QGemm"), kernels.toString());
        assertEquals(integerKernels(dense), kernels, "the same kernels as the dense file");
    }

    private static OnnxMl.ModelProto withOpset(OnnxMl.ModelProto model, long opset) {
        return model.toBuilder().clearOpsetImport()
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).build();
    }

    /**
     * Asserts that {@code packed} unpacks to {@code dense}: in ONNX Runtime (the same outputs bit for bit, and the
     * same optimized graph, operator for operator: the Unpack function was folded when the file loaded, before the
     * fusions, and nothing of it runs per request) and in {@link SparseInitializers#densify} (the same initializers
     * byte for byte, the function and its domain gone).
     */
    private void assertUnpacksTo(OnnxMl.ModelProto dense, OnnxMl.ModelProto packed) throws Exception {
        assertSameOutputs(dense, packed);
        assertEquals(optimizedOperators(dense), optimizedOperators(packed), "the optimized graph is the dense one's");
        OnnxMl.ModelProto back = SparseInitializers.densify(packed);
        assertEquals(0, back.getFunctionsCount());
        assertTrue(back.getOpsetImportList().stream().noneMatch(o -> o.getDomain().equals(PackedWeights.DOMAIN)));
        assertEquals(dense.getGraph().getNodeList(), back.getGraph().getNodeList(), "the Unpack nodes removed");
        assertSameInitializers(dense, back);
    }

    /** The same initializers by name, shape and type, with the same values (a float's -0.0 equal to 0.0). */
    private static void assertSameInitializers(OnnxMl.ModelProto dense, OnnxMl.ModelProto back) {
        Map<String, OnnxMl.TensorProto> want = initializers(dense);
        Map<String, OnnxMl.TensorProto> got = initializers(back);
        assertEquals(want.keySet(), got.keySet());
        for (String name : want.keySet()) {
            assertEquals(want.get(name).getDimsList(), got.get(name).getDimsList(), name);
            assertEquals(want.get(name).getDataType(), got.get(name).getDataType(), name);
            if (want.get(name).getDataType() == DataType.FLOAT_VALUE) {
                assertArrayEquals(floats(want.get(name)), floats(got.get(name)), 0f, name + ": -0.0 comes back as 0.0");
            } else {
                assertEquals(want.get(name).getRawData(), got.get(name).getRawData(), name);
            }
        }
    }

    /**
     * An int8 weight at 6% is packed: 8-bit codes and their gaps take about 2 bytes a value, against 3 for a value
     * and its int16 index; one Unpack node per packed weight and one function in the file. ONNX Runtime unpacks it
     * when it loads the model, before its int8 fusions.
     */
    @Test
    void int8WeightsArePackedSmallerThanSparseAndOnnxRuntimeUnpacksThemBeforeItsFusions() throws Exception {
        OnnxMl.ModelProto dense = int8Model(weights(0.06));
        SparseInitializers.Result packed = SparseInitializers.apply(dense, SparseStorage.AUTO);
        SparseInitializers.SparseTensor big = packed.tensors().get(0);
        assertEquals("w_int8_1", big.name());
        assertTrue(big.packing().startsWith("packed, ") && big.packing().contains("8-bit codes"), big.toString());
        assertEquals(big.packing(), big.storageNote());
        // Before opset 16 the function cannot be written: the same weight is stored sparse, in parts.
        SparseInitializers.SparseTensor sparse = SparseInitializers.apply(withOpset(dense, 15), SparseStorage.AUTO)
                .tensors().get(0);
        assertNull(sparse.packing());
        assertEquals(sparse.nonzero(), big.nonzero());
        assertTrue(big.sparseBytes() < 0.75 * sparse.sparseBytes(), big + " vs " + sparse);
        assertTrue(packed.model().getSerializedSize() < SparseInitializers.apply(withOpset(dense, 15), SparseStorage.AUTO)
                .model().getSerializedSize(), "smaller with the function's bytes counted");
        assertEquals(1, packed.model().getFunctionsCount());
        assertEquals(packed.tensors().stream().filter(t -> t.packing() != null).count(),
                packed.model().getGraph().getNodeList().stream().filter(PackedWeights::isUnpack).count());
        assertEquals(SparseStorage.AUTO, SparseInitializers.storageOf(packed.model()), "a rewrite keeps it packed");
        assertTrue(SparseInitializers.apply(dense, SparseStorage.INT64).tensors().stream().allMatch(t -> t.packing() == null),
                "int64 storage is for the ONNX checker's sparse rule: nothing packed");
        assertUnpacksTo(dense, packed.model());
        assertEquals(Set.of(), ExportService.unfoldedUnpacking(optimized(packed.model()), dense, 17));
        // A stream that is also a graph input may be fed another value, so ONNX Runtime cannot fold what reads it:
        // the check export makes sees the unpacking left in the graph it runs.
        OnnxMl.TensorProto high = packed.model().getGraph().getInitializerList().stream()
                .filter(t -> t.getName().endsWith("_high")).findFirst().orElseThrow();
        OnnxMl.ModelProto overridable = packed.model().toBuilder().setGraph(packed.model().getGraph().toBuilder()
                .addInput(OnnxMl.ValueInfoProto.newBuilder().setName(high.getName()).setType(OnnxMl.TypeProto.newBuilder()
                        .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(high.getDataType())
                                .setShape(OnnxMl.TensorShapeProto.newBuilder().addDim(OnnxMl.TensorShapeProto.Dimension
                                        .newBuilder().setDimValue(high.getDims(0)))))))).build();
        assertTrue(ExportService.unfoldedUnpacking(optimized(overridable), dense, 17).contains("ScatterElements"));
    }

    /**
     * A weight of three distinct values takes 2-bit codes; a run of 32,000 zeros is one entry whose gap's high part
     * is a long unary run in the high stream, and ONNX Runtime and densify place every value after it where it was.
     */
    @Test
    void fewValuesTakeFewBitsAndALongRunOfZerosTakesOneEntry() throws Exception {
        float[][] w = weights(0.1);
        float[] shared = {-0.25f, 0.5f, 0.125f};
        for (int i = 0; i < w[0].length; i++) {
            boolean inRun = i >= 100 * SIZES[1] && i < 600 * SIZES[1];
            w[0][i] = inRun || w[0][i] == 0 ? 0f : shared[i % 3];
        }
        OnnxMl.ModelProto dense = floatModel(w);
        SparseInitializers.Result packed = SparseInitializers.apply(dense, SparseStorage.AUTO);
        SparseInitializers.SparseTensor first = packed.tensors().get(0);
        assertTrue(first.packing().contains("2-bit codes of 3 values"), first.toString());
        PackedWeights.Packed p = PackedWeights.pack(initializers(dense).get(first.name()), 4, true, "b", "v", "h");
        assertEquals(first.nonzero(), p.nonzero());
        assertTrue(p.rice(), p.toString());
        assertEquals(p.nonzero(), p.entries(), "one entry an element, no fillers");
        assertTrue(p.highBits() >= p.entries() + 32_000 / (1L << p.gapBits()), "the run's gap in unary: " + p);
        assertEquals(3, p.node().getInputCount());
        assertUnpacksTo(dense, packed.model());
    }

    /**
     * A dense weight of three shared values packs into its 2-bit codes alone: its gaps are all 0, so it takes fixed
     * 0-bit gaps and no high parts (a unary high stream would cost a bit an element more).
     */
    @Test
    void aDenseWeightOfSharedValuesTakesItsCodesAlone() throws Exception {
        float[][] w = weights(1.0);
        float[] shared = {-0.25f, 0.5f, 0.125f};
        for (int i = 0; i < w[0].length; i++) w[0][i] = shared[i % 3];
        OnnxMl.ModelProto dense = floatModel(w);
        SparseInitializers.SparseTensor first = SparseInitializers.apply(dense, SparseStorage.AUTO).tensors().get(0);
        assertTrue(first.packing().contains("(0-bit gaps, 2-bit codes of 3 values)"), first.toString());
        PackedWeights.Packed p = PackedWeights.pack(initializers(dense).get(first.name()), 4, true, "b", "v", "h");
        assertFalse(p.rice());
        assertEquals(2.0, p.bitsPerElement(), 0.01);
        assertEquals(1, p.high().getDims(0), "one byte of 1 bits: no high parts");
        assertUnpacksTo(dense, SparseInitializers.apply(dense, SparseStorage.AUTO).model());
    }

    @Test
    void aDenseModelIsLeftAsItIsByteForByte() {
        for (OnnxMl.ModelProto model : List.of(floatModel(weights(1.0)), int8Model(weights(1.0)))) {
            SparseInitializers.Result result = SparseInitializers.apply(model, SparseStorage.AUTO);
            assertTrue(result.tensors().isEmpty(), result.tensors().toString());
            assertArrayEquals(model.toByteArray(), result.model().toByteArray());
            assertEquals(0, result.model().getGraph().getSparseInitializerCount());
        }
        OnnxMl.ModelProto pruned = floatModel(weights(0.1));
        SparseInitializers.Result never = SparseInitializers.apply(pruned, SparseStorage.NEVER);
        assertSame(pruned, never.model());
        assertTrue(never.tensors().isEmpty());
        assertNotEquals(0, SparseInitializers.apply(pruned, SparseStorage.AUTO).tensors().size());
        assertFalse(never.model().getGraph().getSparseInitializerCount() > 0);
    }

    private static Map<String, OnnxMl.TensorProto> initializers(OnnxMl.ModelProto model) {
        return model.getGraph().getInitializerList().stream().collect(Collectors.toMap(OnnxMl.TensorProto::getName, t -> t));
    }

    /** The floats of a raw FLOAT tensor. */
    private static float[] floats(OnnxMl.TensorProto t) {
        java.nio.FloatBuffer b = t.getRawData().asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] out = new float[b.remaining()];
        b.get(out);
        return out;
    }

    /** Densifying gives every weight back: the same values at the same places (a -0.0 comes back as 0.0). */
    @Test
    void densifyGivesBackTheDenseWeights() {
        OnnxMl.ModelProto dense = floatModel(weights(0.1));
        for (SparseStorage storage : List.of(SparseStorage.AUTO, SparseStorage.INT64)) {
            OnnxMl.ModelProto sparse = SparseInitializers.apply(dense, storage).model();
            assertEquals(storage, SparseInitializers.storageOf(sparse));
            OnnxMl.ModelProto back = SparseInitializers.densify(sparse);
            assertEquals(0, back.getGraph().getSparseInitializerCount());
            assertEquals(SparseStorage.NEVER, SparseInitializers.storageOf(back));
            assertEquals(dense.getGraph().getNodeList(), back.getGraph().getNodeList(), "the parts' Concat folded away");
            assertSameInitializers(dense, back);
        }
        assertSame(dense, SparseInitializers.densify(dense), "nothing to densify");
    }

    /** Coordinate indices ([NNZ, rank]) and values in their typed field, as other writers may store them. */
    @Test
    void densifyReadsCoordinateIndicesAndTypedValues() {
        OnnxMl.SparseTensorProto coo = OnnxMl.SparseTensorProto.newBuilder()
                .setValues(OnnxMl.TensorProto.newBuilder().setName("w").setDataType(DataType.FLOAT_VALUE).addDims(3)
                        .addFloatData(1.5f).addFloatData(-2f).addFloatData(3f))
                .setIndices(OnnxMl.TensorProto.newBuilder().setDataType(DataType.INT64_VALUE).addDims(3).addDims(2)
                        .addInt64Data(0).addInt64Data(1).addInt64Data(1).addInt64Data(0).addInt64Data(2).addInt64Data(2))
                .addDims(3).addDims(3).build();
        OnnxMl.ModelProto model = OnnxMl.ModelProto.newBuilder()
                .setGraph(OnnxMl.GraphProto.newBuilder().setName("coo").addSparseInitializer(coo)).build();
        OnnxMl.TensorProto w = SparseInitializers.densify(model).getGraph().getInitializer(0);
        assertEquals(List.of(3L, 3L), w.getDimsList());
        assertArrayEquals(new float[]{0, 1.5f, 0, -2f, 0, 0, 0, 0, 3f}, floats(w));
    }

    /**
     * {@code quantize --from file.onnx} reads a sparse file's weights (made dense as ONNX Runtime makes them), and a
     * source with sparse initializers gets its int8 weights sparse again: the quantized file computes what the
     * quantized dense file computes.
     */
    @Test
    void quantizingASparseFileReadsItsWeightsAndKeepsThemSparse() throws Exception {
        OnnxMl.ModelProto dense = floatModel(weights(0.1));
        Path denseFile = tmp.resolve("dense.onnx");
        Path sparseFile = tmp.resolve("sparse.onnx");
        Files.write(denseFile, dense.toByteArray());
        Files.write(sparseFile, SparseInitializers.apply(dense, SparseStorage.AUTO).model().toByteArray());
        var service = new dev.squeeze.compress.onnx.quantize.OnnxQuantizeService(new dev.squeeze.compress.runs.Workspace(
                tmp, tmp.resolve("ledger.db").toString()), dev.squeeze.compress.train.TrainingMonitor.SILENT);
        var fromDense = service.quantize(denseFile, dev.squeeze.compress.quant.QuantParams.DEFAULTS,
                tmp.resolve("dense-int8.onnx"), null);
        var fromSparse = service.quantize(sparseFile, dev.squeeze.compress.quant.QuantParams.DEFAULTS,
                tmp.resolve("sparse-int8.onnx"), null);
        assertEquals(fromDense.candidates().stream().filter(c -> c.quantized()).count(),
                fromSparse.candidates().stream().filter(c -> c.quantized()).count(), "the same nodes quantized");
        OnnxMl.ModelProto int8Dense = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(tmp.resolve("dense-int8.onnx")));
        OnnxMl.ModelProto int8Sparse = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(tmp.resolve("sparse-int8.onnx")));
        assertEquals(0, int8Dense.getGraph().getSparseInitializerCount());
        assertTrue(int8Sparse.getGraph().getSparseInitializerList().stream()
                .anyMatch(t -> t.getValues().getDataType() == DataType.INT8_VALUE), "int8 weights stored sparse");
        assertTrue(fromSparse.int8FileBytes() < 0.6 * fromDense.int8FileBytes(),
                fromSparse.int8FileBytes() + " vs " + fromDense.int8FileBytes());
        assertSameOutputs(int8Dense, int8Sparse);
    }
}
