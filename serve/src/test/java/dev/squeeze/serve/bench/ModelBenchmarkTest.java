package dev.squeeze.serve.bench;

import dev.squeeze.core.BadInputException;

import dev.squeeze.serve.runtime.BadRequestException;
import dev.squeeze.serve.runtime.BatchTestModels;
import dev.squeeze.serve.runtime.HostTensor;
import dev.squeeze.serve.runtime.LoadedModel;
import dev.squeeze.serve.runtime.ModelConfig;
import dev.squeeze.serve.runtime.TensorType;
import dev.squeeze.serve.runtime.TestModels;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ModelBenchmark on real small ONNX files in real ONNX Runtime sessions; no timing thresholds. */
class ModelBenchmarkTest {
    /** Short windows so the class runs in seconds: 50 ms warm-up, windows of 100 ms and 3 calls, at most 5. */
    private static final BenchmarkOptions SHORT = new BenchmarkOptions(100, 50, 5, 3, 10.0, 1, List.of(1, 3));
    /** For tests about everything but timing. */
    private static final BenchmarkOptions TINY = new BenchmarkOptions(5, 0, 3, 1, 10.0, 1, List.of(1));

    @TempDir
    Path dir;

    // ---- statistics helpers -------------------------------------------------------------------------------------

    @Test
    void stabilityHelper() {
        assertTrue(ModelBenchmark.isStable(new double[]{100, 102, 99}, 10));
        assertFalse(ModelBenchmark.isStable(new double[]{100, 150, 60}, 10));
        // only the last three windows count
        assertTrue(ModelBenchmark.isStable(new double[]{10, 500, 100, 102, 99}, 10));
        assertFalse(ModelBenchmark.isStable(new double[]{100, 102}, 10));
        assertFalse(ModelBenchmark.isStable(new double[]{100, 112, 100}, 5));
        assertTrue(ModelBenchmark.isStable(new double[]{100, 112, 100}, 10));
    }

    @Test
    void medianHelper() {
        assertEquals(2.0, ModelBenchmark.median(new double[]{3, 1, 2}));
        assertEquals(2.5, ModelBenchmark.median(new double[]{4, 1, 3, 2}));
        assertEquals(7.0, ModelBenchmark.median(new double[]{7}));
        double[] values = {5, 1, 3};
        ModelBenchmark.median(values);
        assertEquals(5, values[0], "the argument is not sorted in place");
        assertThrows(IllegalArgumentException.class, () -> ModelBenchmark.median(new double[0]));
    }

    @Test
    void percentileIsNearestRank() {
        double[] sorted = new double[100];
        for (int i = 0; i < 100; i++) sorted[i] = i + 1;
        assertEquals(50, ModelBenchmark.percentile(sorted, 0.50));
        assertEquals(90, ModelBenchmark.percentile(sorted, 0.90));
        assertEquals(99, ModelBenchmark.percentile(sorted, 0.99));
        assertEquals(4, ModelBenchmark.percentile(new double[]{4}, 0.99));
    }

    @Test
    void optionsAreChecked() {
        Map<String, Object> bad = Map.of("max-windows", 2, "threads", 0, "window-ms", 0L, "stability", 0.0);
        bad.forEach((name, value) -> {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> BenchmarkOptions.SETTINGS.check(SHORT.with(name, value)), name);
            assertTrue(e.getMessage().startsWith(name + " must be "), e.getMessage());
        });
        // measure() checks too, before touching the file: a program's options get the user's refusal
        BadInputException e = assertThrows(BadInputException.class,
                () -> ModelBenchmark.measure("m", dir.resolve("absent.onnx"), SHORT.with("max-windows", 2), null));
        assertEquals("max-windows must be an integer >= 3, got 2", e.getMessage());
        assertEquals(1, BenchmarkOptions.DEFAULTS.threads());
        assertEquals(10.0, BenchmarkOptions.DEFAULTS.stabilityPercent());
        assertEquals(10, BenchmarkOptions.DEFAULTS.maxWindows());
        assertEquals(5, BenchmarkOptions.DEFAULTS.minRunsPerWindow());
        assertEquals(Duration.ofSeconds(1), BenchmarkOptions.DEFAULTS.window());
        assertEquals(Duration.ofSeconds(1), BenchmarkOptions.DEFAULTS.warmup());
    }

    // ---- parameters ---------------------------------------------------------------------------------------------

    /**
     * x [batch, 3] → MatMul with DequantizeLinear(int8 [3, 4] weights, per-channel scale [4], zero point [4]) → Add
     * float bias [4] (typed float_data) → MatMul float [4, 2] → Mul scalar → Reshape to [-1, 2] (INT64 shape [2]).
     */
    private Path quantizedModel() {
        OnnxMl.ModelProto m = TestModels.graph("params")
                .input("x", TensorType.FP32, -1, 3)
                .floats("scale", new float[]{0.1f, 0.2f, 0.3f, 0.4f}, 4)
                .floats("w2", new float[]{0, 1, 2, 0, 0, 3, 4, 5}, 4, 2)
                .floats("factor", new float[]{2f})
                .int64s("shape", new long[]{-1, 2}, 2)
                .node("DequantizeLinear", List.of("wq", "scale", "zp"), List.of("w"), "axis", 1L)
                .node("MatMul", List.of("x", "w"), List.of("h1"))
                .node("Add", List.of("h1", "b"), List.of("h2"))
                .node("MatMul", List.of("h2", "w2"), List.of("h3"))
                .node("Mul", List.of("h3", "factor"), List.of("h4"))
                .node("Reshape", List.of("h4", "shape"), List.of("y"))
                .output("y", TensorType.FP32, -1, 2)
                .build();
        OnnxMl.ModelProto.Builder b = m.toBuilder();
        b.getGraphBuilder()
                .addInitializer(raw("wq", OnnxMl.TensorProto.DataType.INT8,
                        new byte[]{1, 0, -2, 0, 3, 4, 0, 5, 0, 6, 7, 8}, 3, 4))
                .addInitializer(raw("zp", OnnxMl.TensorProto.DataType.INT8, new byte[]{0, 0, 0, 0}, 4))
                .addInitializer(OnnxMl.TensorProto.newBuilder().setName("b")
                        .setDataType(OnnxMl.TensorProto.DataType.FLOAT_VALUE).addDims(4)
                        .addFloatData(0.5f).addFloatData(0f).addFloatData(-0.25f).addFloatData(1f));
        return write(dir.resolve("params.onnx"), b.build());
    }

    @Test
    void parametersAndNonZeroOfKnownInitializers() throws Exception {
        Path file = quantizedModel();
        // counted: wq 12 (8 non-zero), b 4 (3), w2 8 (5); not counted: the per-channel scale and zero point (only
        // quantization parameters), the scalar factor, the INT64 shape
        BenchmarkResult r = assertCounts(file, 24, 16, 3);
        assertEquals(Files.size(file), r.fileBytes());
        assertTrue(r.zippedBytes() > 0);
        assertEquals("zeros", r.inputData());
        assertEquals("x FP32 [-1, 3]", r.inputs());
    }

    /**
     * Quantization parameters that nodes compute, as Squeeze's int8 export writes them when smaller: the weights' zero
     * points a ConstantOfShape, the bias scales a Mul of the input scale and the weight scales, the bias codes int16
     * Cast to int32. x [batch, 3] → QuantizeLinear/DequantizeLinear → MatMul with int8 [3, 4] weights → Add the
     * dequantized bias.
     */
    @Test
    void quantizationParametersComputedByNodesAreNotParameters() throws Exception {
        OnnxMl.ModelProto m = TestModels.graph("computed")
                .input("x", TensorType.FP32, -1, 3)
                .floats("x_scale", new float[]{0.05f})
                .floats("w_scale", new float[]{0.1f, 0.2f, 0.3f, 0.4f}, 4)
                .int64s("zp_shape", new long[]{4}, 1)
                .node("QuantizeLinear", List.of("x", "x_scale", "x_zero"), List.of("xq"))
                .node("DequantizeLinear", List.of("xq", "x_scale", "x_zero"), List.of("xd"))
                .node("ConstantOfShape", List.of("zp_shape"), List.of("w_zero"))
                .node("DequantizeLinear", List.of("wq", "w_scale", "w_zero"), List.of("w"), "axis", 1L)
                .node("Mul", List.of("x_scale", "w_scale"), List.of("b_scale"))
                .node("Cast", List.of("b16"), List.of("b32"), "to", (long) OnnxMl.TensorProto.DataType.INT32_VALUE)
                .node("DequantizeLinear", List.of("b32", "b_scale"), List.of("b"), "axis", 0L)
                .node("MatMul", List.of("xd", "w"), List.of("h"))
                .node("Add", List.of("h", "b"), List.of("y"))
                .output("y", TensorType.FP32, -1, 4)
                .build();
        OnnxMl.ModelProto.Builder b = m.toBuilder();
        OnnxMl.GraphProto.Builder g = b.getGraphBuilder();
        for (OnnxMl.NodeProto.Builder n : g.getNodeBuilderList()) {
            if (n.getOpType().equals("ConstantOfShape")) {
                n.addAttribute(OnnxMl.AttributeProto.newBuilder().setName("value")
                        .setType(OnnxMl.AttributeProto.AttributeType.TENSOR)
                        .setT(raw("zero", OnnxMl.TensorProto.DataType.INT8, new byte[1], 1)));
            }
        }
        g.addInitializer(raw("x_zero", OnnxMl.TensorProto.DataType.UINT8, new byte[]{(byte) 128}))
                .addInitializer(raw("wq", OnnxMl.TensorProto.DataType.INT8,
                        new byte[]{1, 0, -2, 0, 3, 4, 0, 5, 0, 6, 7, 8}, 3, 4))
                .addInitializer(raw("b16", OnnxMl.TensorProto.DataType.INT16, new byte[]{5, 0, 0, 0, -3, -1, 0, 1}, 4));
        Path file = write(dir.resolve("computed.onnx"), b.build());

        // counted: wq 12 (8 non-zero), b16 4 (3); not counted: w_scale (read by the weights' DequantizeLinear and by
        // the Mul that makes only a bias scale), the zero points' shape, the scalars
        assertCounts(file, 16, 11, 2);
    }

    /**
     * A weight-only int8 layer's weights as Squeeze writes them (float activations): int8 codes Cast to float and
     * multiplied by per-output scales, into a float MatMul. The codes count; their scales do not.
     */
    @Test
    void int8WeightsCastAndScaledToFloatCountAsTheirCodes() throws Exception {
        OnnxMl.ModelProto m = TestModels.graph("weight-only")
                .input("x", TensorType.FP32, -1, 3)
                .floats("w_scale", new float[]{0.1f, 0.2f, 0.3f, 0.4f}, 4)
                .node("Cast", List.of("wq"), List.of("wf"), "to", (long) OnnxMl.TensorProto.DataType.FLOAT_VALUE)
                .node("Mul", List.of("wf", "w_scale"), List.of("w"))
                .node("MatMul", List.of("x", "w"), List.of("y"))
                .output("y", TensorType.FP32, -1, 4)
                .build();
        OnnxMl.ModelProto.Builder b = m.toBuilder();
        b.getGraphBuilder().addInitializer(raw("wq", OnnxMl.TensorProto.DataType.INT8,
                new byte[]{1, 0, -2, 0, 3, 4, 0, 5, 0, 6, 7, 8}, 3, 4));
        assertCounts(write(dir.resolve("weight-only.onnx"), b.build()), 12, 8, 1);
    }

    /**
     * {@code file}'s parameters, non-zero parameters and counted initializers, counted alone and in a full
     * measurement (the model really runs in ONNX Runtime); the measurement.
     */
    private static BenchmarkResult assertCounts(Path file, long parameters, long nonZero, int initializers)
            throws Exception {
        BenchmarkParameters p = ModelBenchmark.countParameters(file);
        assertEquals(parameters, p.parameters());
        assertEquals(nonZero, p.nonZeroParameters());
        assertEquals(initializers, p.initializers());
        BenchmarkResult r = ModelBenchmark.measure("counted", file, TINY, null);
        assertEquals(parameters, r.parameters());
        assertEquals(nonZero, r.nonZeroParameters());
        return r;
    }

    @Test
    void typedFieldsHalfFloatsAndSmallIntegers() throws Exception {
        OnnxMl.GraphProto.Builder g = OnnxMl.GraphProto.newBuilder().setName("typed")
                // FLOAT16 bits in int32_data: 1.0, -0.0, 0.0, smallest subnormal → 2 non-zero
                .addInitializer(OnnxMl.TensorProto.newBuilder().setName("h")
                        .setDataType(OnnxMl.TensorProto.DataType.FLOAT16_VALUE).addDims(4)
                        .addInt32Data(0x3C00).addInt32Data(0x8000).addInt32Data(0).addInt32Data(1))
                // DOUBLE in double_data: 1 non-zero of 3
                .addInitializer(OnnxMl.TensorProto.newBuilder().setName("d")
                        .setDataType(OnnxMl.TensorProto.DataType.DOUBLE_VALUE).addDims(3)
                        .addDoubleData(0).addDoubleData(-0.0).addDoubleData(2.5))
                // UINT8 raw: 255, 0 → 1 non-zero
                .addInitializer(raw("u", OnnxMl.TensorProto.DataType.UINT8, new byte[]{(byte) 255, 0}, 2))
                // FLOAT raw with -0.0: 1 non-zero of 2
                .addInitializer(raw("f", OnnxMl.TensorProto.DataType.FLOAT, floatBytes(-0.0f, 3f), 2))
                // INT32 in int32_data [2, 2]: 2 non-zero
                .addInitializer(OnnxMl.TensorProto.newBuilder().setName("i")
                        .setDataType(OnnxMl.TensorProto.DataType.INT32_VALUE).addDims(2).addDims(2)
                        .addInt32Data(0).addInt32Data(-7).addInt32Data(0).addInt32Data(9))
                // not counted: INT64, BOOL, a one-element FLOAT
                .addInitializer(OnnxMl.TensorProto.newBuilder().setName("l")
                        .setDataType(OnnxMl.TensorProto.DataType.INT64_VALUE).addDims(3)
                        .addInt64Data(1).addInt64Data(2).addInt64Data(3))
                .addInitializer(OnnxMl.TensorProto.newBuilder().setName("bool")
                        .setDataType(OnnxMl.TensorProto.DataType.BOOL_VALUE).addDims(2)
                        .addInt32Data(1).addInt32Data(1))
                .addInitializer(OnnxMl.TensorProto.newBuilder().setName("one")
                        .setDataType(OnnxMl.TensorProto.DataType.FLOAT_VALUE).addDims(1).addFloatData(4f));
        Path file = write(dir.resolve("typed.onnx"), OnnxMl.ModelProto.newBuilder().setIrVersion(8).setGraph(g).build());
        BenchmarkParameters p = ModelBenchmark.countParameters(file);
        assertEquals(4 + 3 + 2 + 2 + 4, p.parameters());
        assertEquals(2 + 1 + 1 + 1 + 2, p.nonZeroParameters());
        assertEquals(5, p.initializers());
    }

    // ---- timing -------------------------------------------------------------------------------------------------

    @Test
    void benchmarkOfAnMlpOnItsTestSet() throws Exception {
        Path file = BatchTestModels.mlp(dir);
        int n = 300; // more than one accuracy batch of 256
        Random random = new Random(7);
        float[] features = new float[n * BatchTestModels.FEATURES];
        for (int i = 0; i < features.length; i++) features[i] = (float) random.nextGaussian();
        int[] predicted = predictions(file, features, n);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) labels[i] = i % 10 == 0 ? (predicted[i] + 1) % BatchTestModels.CLASSES : predicted[i];
        LabeledRows rows = new LabeledRows(features, new long[]{BatchTestModels.FEATURES}, labels);

        BenchmarkResult r = ModelBenchmark.measure("mlp-fp32", file, SHORT, rows);

        assertEquals("mlp-fp32", r.name());
        assertEquals(1, r.threads());
        assertNotNull(Instant.parse(r.timestamp()));
        assertFalse(r.onnxRuntimeVersion().isEmpty());
        assertEquals("test set", r.inputData());
        long weights = (long) BatchTestModels.FEATURES * BatchTestModels.HIDDEN + BatchTestModels.HIDDEN
                + (long) BatchTestModels.HIDDEN * BatchTestModels.CLASSES + BatchTestModels.CLASSES;
        assertEquals(weights, r.parameters());
        assertTrue(r.nonZeroParameters() > 0 && r.nonZeroParameters() <= weights);
        assertEquals(Files.size(file), r.fileBytes());
        assertTrue(r.zippedBytes() > 0);

        assertTrue(r.latencyP50Micros() > 0);
        assertTrue(r.latencyP50Micros() <= r.latencyP90Micros(), r.latencyP50Micros() + " > " + r.latencyP90Micros());
        assertTrue(r.latencyP90Micros() <= r.latencyP99Micros(), r.latencyP90Micros() + " > " + r.latencyP99Micros());
        assertTrue(r.throughputBatch32() > 0);
        assertTrue(r.throughputBatch256() > 0);
        assertTrue(r.latencyP50Batch32Micros() > 0);
        assertTrue(r.latencyP50Batch256Micros() > 0);
        assertEquals(1, r.batch1().batchSize());
        assertEquals(32, r.batch32().batchSize());
        assertEquals(256, r.batch256().batchSize());
        assertEquals(r.batch32().throughputSamplesPerSecond(), r.throughputBatch32());
        for (BenchmarkPhase p : List.of(r.batch1(), r.batch32(), r.batch256())) assertEquals(1, p.callers(), p.toString());
        // batch 1 from 3 threads at once besides the one caller: SHORT's callers are 1, 3
        assertEquals(1, r.concurrent().size());
        BenchmarkPhase three = r.concurrent().get(0);
        assertEquals(3, three.callers());
        assertEquals(1, three.batchSize());
        assertEquals(r.batch1().stable() && three.stable() && r.batch32().stable() && r.batch256().stable(), r.stable());
        for (BenchmarkPhase p : List.of(r.batch1(), three, r.batch32(), r.batch256())) checkPhase(p, SHORT);

        assertEquals(0.9, r.accuracy(), 1e-12);
        assertEquals(300, r.accuracyExamples());
        assertEquals("onnxruntime on 300 examples", r.accuracySource());

        if (Files.isReadable(Path.of("/proc/self/status"))) {
            assertTrue(r.rssBeforeBytes() > 0);
            assertTrue(r.rssAfterBytes() > 0);
            assertEquals(r.rssAfterBytes() - r.rssBeforeBytes(), r.rssIncreaseBytes());
            assertTrue(r.peakRssBytes() >= r.rssAfterBytes());
        }

        // clean JSON: named fields, no NaN
        String json = new ObjectMapper().writeValueAsString(r);
        assertFalse(json.contains("NaN") || json.contains("Infinity"), json);
        JsonNode tree = new ObjectMapper().readTree(json);
        for (String field : List.of("timestamp", "threads", "fileBytes", "zippedBytes", "parameters", "nonZeroParameters",
                "latencyP50Micros", "latencyP90Micros", "latencyP99Micros", "throughputBatch32", "throughputBatch256",
                "rssBeforeBytes", "rssAfterBytes", "accuracy", "accuracySource", "stable")) {
            assertTrue(tree.has(field), field + " in " + json);
        }
        assertEquals(r.batch256().windows(), tree.path("batch256").path("windowThroughputs").size());
    }

    private static void checkPhase(BenchmarkPhase p, BenchmarkOptions o) {
        String what = "batch " + p.batchSize() + ": " + p;
        assertTrue(p.windows() >= 1 && p.windows() <= o.maxWindows(), what);
        if (p.stable()) assertTrue(p.windows() >= ModelBenchmark.STABLE_WINDOWS, what);
        else assertEquals(o.maxWindows(), p.windows(), what);
        assertEquals(p.windows(), p.windowThroughputs().size(), what);
        assertTrue(p.runs() >= (long) p.windows() * o.minRunsPerWindow(), what);
        assertTrue(p.throughputSamplesPerSecond() > 0, what);
        assertTrue(p.throughputMinSamplesPerSecond() <= p.throughputSamplesPerSecond(), what);
        assertTrue(p.throughputSamplesPerSecond() <= p.throughputMaxSamplesPerSecond(), what);
        assertTrue(p.latencyP50MinMicros() <= p.latencyP50Micros(), what);
        assertTrue(p.latencyP50Micros() <= p.latencyP50MaxMicros(), what);
        assertTrue(p.latencyP50Micros() > 0 && p.latencyP50Micros() <= p.latencyP90Micros()
                && p.latencyP90Micros() <= p.latencyP99Micros(), what);
        double[] tp = p.windowThroughputs().stream().mapToDouble(Double::doubleValue).toArray();
        assertEquals(p.stable(), ModelBenchmark.isStable(tp, o.stabilityPercent()), what);
    }

    /** The MLP's own argmax predictions, through the serving path. */
    private static int[] predictions(Path file, float[] features, int n) throws Exception {
        try (LoadedModel m = LoadedModel.load("mlp", 1, file, ModelConfig.DEFAULTS)) {
            HostTensor x = new HostTensor("x", TensorType.FP32, new long[]{n, BatchTestModels.FEATURES}, features);
            float[] p = (float[]) m.run(List.of(x), Set.of("probabilities")).get(0).data();
            int[] out = new int[n];
            for (int r = 0; r < n; r++) {
                int best = 0;
                for (int c = 1; c < BatchTestModels.CLASSES; c++) {
                    if (p[r * BatchTestModels.CLASSES + c] > p[r * BatchTestModels.CLASSES + best]) best = c;
                }
                out[r] = best;
            }
            return out;
        }
    }

    /**
     * A timed call makes its input tensors over its own direct buffers and reads every output back: through an
     * Identity model of each type the server carries, the outputs equal the inputs, call after call (the buffers are
     * reused), and a model with an FP32 and an INT64 input gets both.
     */
    @Test
    void aTimedCallSendsTheInputsAndReadsEveryOutputForEveryCarriedType() throws Exception {
        Random random = new Random(3);
        for (TensorType type : TensorType.values()) {
            if (!type.carried()) continue;
            Path file = TestModels.identity(dir.resolve(type.name()), type, -1, 3);
            try (LoadedModel model = LoadedModel.load("id", 1, file, ModelConfig.DEFAULTS)) {
                for (int call = 0; call < 3; call++) {
                    HostTensor x = randomTensor("x", type, new long[]{2, 3}, random);
                    List<HostTensor> out = new ModelBenchmark.Caller(model.session(), List.of(x)).call();
                    assertEquals(1, out.size(), type.toString());
                    assertEquals("y", out.get(0).name());
                    assertEquals(type, out.get(0).type());
                    assertArrayEquals(x.shape(), out.get(0).shape(), type.toString());
                    assertTrue(java.util.Objects.deepEquals(x.data(), out.get(0).data()), type + " call " + call);
                }
            }
        }
        try (LoadedModel model = LoadedModel.load("two", 1, TestModels.twoInputs(dir.resolve("two")), ModelConfig.DEFAULTS)) {
            HostTensor x = new HostTensor("x", TensorType.FP32, new long[]{2, 3}, new float[]{1, 2, 3, 4, 5, 6});
            HostTensor k = new HostTensor("k", TensorType.INT64, new long[]{2, 1}, new long[]{2, -1});
            ModelBenchmark.Caller caller = new ModelBenchmark.Caller(model.session(), List.of(x, k));
            for (int call = 0; call < 2; call++) {
                List<HostTensor> out = caller.call();
                assertEquals(List.of("y", "z"), out.stream().map(HostTensor::name).toList());
                assertArrayEquals(new float[]{2, 4, 6, -4, -5, -6}, (float[]) out.get(0).data());
                assertArrayEquals(new long[]{4, -2}, (long[]) out.get(1).data());
            }
        }
    }

    private static HostTensor randomTensor(String name, TensorType type, long[] shape, Random random) {
        int n = Math.toIntExact(HostTensor.elementCount(shape));
        Object data = java.lang.reflect.Array.newInstance(type.arrayClass().getComponentType(), n);
        for (int i = 0; i < n; i++) {
            if (data instanceof float[] f) f[i] = (float) random.nextGaussian();
            else if (data instanceof double[] d) d[i] = random.nextGaussian();
            else if (data instanceof long[] l) l[i] = random.nextLong();
            else if (data instanceof int[] v) v[i] = random.nextInt();
            // FP16/BF16 bits: finite values only (exponent bits not all ones), so equal values are equal bits
            else if (data instanceof short[] v) v[i] = (short) (type == TensorType.INT16 ? random.nextInt() : random.nextInt(0x7800));
            else if (data instanceof byte[] b) b[i] = (byte) random.nextInt();
            else if (data instanceof boolean[] b) b[i] = random.nextBoolean();
            else ((String[]) data)[i] = "s" + random.nextInt(1000) + (i % 2 == 0 ? "" : " é");
        }
        return new HostTensor(name, type, shape, data);
    }

    @Test
    void fixedBatchModelIsMeasuredAtItsBatchOnly() {
        BenchmarkResult r = ModelBenchmark.measure("fixed", BatchTestModels.fixedBatchMlp(dir), TINY, null);
        assertEquals(1, r.batch1().batchSize());
        assertTrue(r.latencyP50Micros() > 0);
        assertNull(r.throughputBatch32());
        assertNull(r.throughputBatch256());
        assertNull(r.batch32());
        assertNull(r.batch256());
        assertNull(r.accuracy());
        assertNull(r.accuracySource());
    }

    @Test
    void multiInputModelRunsOnZeros() {
        BenchmarkResult r = ModelBenchmark.measure("two", TestModels.twoInputs(dir), SHORT, null);
        assertEquals("zeros", r.inputData());
        assertEquals("x FP32 [-1, 3], k INT64 [-1, 1]", r.inputs());
        assertEquals(0, r.parameters());
        assertTrue(r.latencyP50Micros() > 0);
        assertTrue(r.throughputBatch32() > 0);
        assertTrue(r.throughputBatch256() > 0);
        assertNull(r.accuracy());
        for (BenchmarkPhase p : List.of(r.batch1(), r.batch32(), r.batch256())) checkPhase(p, SHORT);
    }

    // ---- accuracy -----------------------------------------------------------------------------------------------

    /** x [batch, 4] → logits = Neg(x), probabilities = Identity(x): only "probabilities" ranks the hot input first. */
    private Path scores(String metadataOrNull) {
        TestModels.Graph g = TestModels.graph("scores")
                .input("x", TensorType.FP32, -1, 4)
                .node("Neg", List.of("x"), List.of("logits"))
                .node("Identity", List.of("x"), List.of("probabilities"))
                .output("logits", TensorType.FP32, -1, 4)
                .output("probabilities", TensorType.FP32, -1, 4);
        if (metadataOrNull != null) g.metadata("squeeze", metadataOrNull);
        return g.writeTo(dir);
    }

    @Test
    void accuracyThroughOnnxRuntimeIsExact() {
        int n = 10;
        float[] features = new float[n * 4];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            int hot = i % 4;
            features[i * 4 + hot] = 1f;
            labels[i] = i < 7 ? hot : (hot + 1) % 4; // 7 of 10 right
        }
        BenchmarkResult r = ModelBenchmark.measure("scores", scores(null), TINY,
                new LabeledRows(features, new long[]{4}, labels));
        assertEquals("test set", r.inputData());
        assertEquals(0.7, r.accuracy(), 1e-12);
        assertEquals(10, r.accuracyExamples());
        assertEquals("onnxruntime on 10 examples", r.accuracySource());
    }

    @Test
    void accuracyFallsBackToExportMetadata() {
        Path file = scores("{\"export_run\":\"r1\",\"accuracy_at_export\":{\"test_accuracy\":0.875,\"examples\":1000}}");
        BenchmarkResult r = ModelBenchmark.measure("exported", file, TINY, null);
        assertEquals(0.875, r.accuracy());
        assertEquals(1000, r.accuracyExamples());
        assertEquals("export metadata", r.accuracySource());

        // a test set that does not fit the input (5 features, not 4) is not fed: zeros, and the metadata's accuracy
        LabeledRows wrongShape = new LabeledRows(new float[10], new long[]{5}, new int[]{0, 1});
        BenchmarkResult r2 = ModelBenchmark.measure("exported", file, TINY, wrongShape);
        assertEquals("zeros", r2.inputData());
        assertEquals("export metadata", r2.accuracySource());
    }

    @Test
    void noTestSetAndNoMetadataMeansNoAccuracy() {
        BenchmarkResult r = ModelBenchmark.measure("plain", TestModels.identity(dir, TensorType.FP32, -1, 4), TINY, null);
        assertNull(r.accuracy());
        assertNull(r.accuracyExamples());
        assertNull(r.accuracySource());
    }

    @Test
    void notAnOnnxFileIsABadRequest() throws Exception {
        Path file = Files.writeString(dir.resolve("junk.onnx"), "not a model");
        assertThrows(BadRequestException.class, () -> ModelBenchmark.measure("junk", file, TINY, null));
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static OnnxMl.TensorProto raw(String name, OnnxMl.TensorProto.DataType type, byte[] bytes, long... dims) {
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(type.getNumber())
                .setRawData(ByteString.copyFrom(bytes));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    private static byte[] floatBytes(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    private static Path write(Path file, OnnxMl.ModelProto model) {
        try {
            Files.write(file, model.toByteArray());
            return file;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
