package dev.squeeze.compress.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds an ONNX graph a node at a time, each method named after the operator it adds and returning the name of
 * its output, so that building code reads like the graph: {@code relu(gemm(flatten(x), w, b))}. Dimensions given as
 * -1 are the symbolic batch dimension.
 */
public final class OnnxGraph {
    public static final String BATCH = "batch";

    /** Bytes per element of the tensor types with a fixed size, by data type number. */
    static final Map<Integer, Integer> ELEMENT_BYTES = Map.ofEntries(
            Map.entry(DataType.FLOAT_VALUE, 4), Map.entry(DataType.DOUBLE_VALUE, 8),
            Map.entry(DataType.FLOAT16_VALUE, 2), Map.entry(DataType.BFLOAT16_VALUE, 2),
            Map.entry(DataType.INT8_VALUE, 1), Map.entry(DataType.UINT8_VALUE, 1),
            Map.entry(DataType.INT16_VALUE, 2), Map.entry(DataType.UINT16_VALUE, 2),
            Map.entry(DataType.INT32_VALUE, 4), Map.entry(DataType.UINT32_VALUE, 4),
            Map.entry(DataType.INT64_VALUE, 8), Map.entry(DataType.UINT64_VALUE, 8));

    private final OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder();
    private final Map<String, Integer> counters = new LinkedHashMap<>();
    /** Names {@link #fresh} must not return: those of a graph being rewritten. */
    private final Set<String> reserved = new HashSet<>();
    /** Each small constant written so far (a scale, a zero point), by its value: written once, read by every node. */
    private final Map<SmallConstant, String> smallConstants = new HashMap<>();
    /** Values {@link #output} gave a graph output's name, by the name they had. */
    private final Map<String, String> renamedOutputs = new HashMap<>();
    /** Whether nodes are written with names ({@link #unnamedNodes}). */
    private boolean namedNodes = true;

    /** Constants of at most this many bytes are shared by value ({@link #initializer}). */
    private static final int SHARED_BYTES = 8;

    private record SmallConstant(int type, List<Long> dims, ByteString raw) {
    }

    public OnnxGraph(String name) {
        graph.setName(name);
    }

    /**
     * Keeps {@link #fresh} (and so every operator method) off {@code names}: for writing new nodes into a graph that
     * already has tensors and nodes of its own ({@link #add} copies those).
     */
    public OnnxGraph reserve(Collection<String> names) {
        reserved.addAll(names);
        return this;
    }

    /** Appends a node as it is: one of the graph being rewritten. */
    public void add(OnnxMl.NodeProto node) {
        graph.addNode(node);
    }

    /** The nodes added so far, in order. */
    public List<OnnxMl.NodeProto> nodes() {
        return graph.getNodeList();
    }

    /** The initializers added so far. */
    public List<OnnxMl.TensorProto> initializers() {
        return graph.getInitializerList();
    }

    // ---- inputs, outputs, constants ----------------------------------------------------------------------------

    public String input(String name, OnnxMl.TensorProto.DataType type, long... dims) {
        graph.addInput(valueInfo(name, type, dims));
        return name;
    }

    /**
     * Names {@code value} as a graph output: the node that computes it writes {@code name} instead (its readers read
     * that), or, when no node of this graph computes it, it is an output already, or {@code name} is taken, an Identity
     * node copies it to {@code name}.
     */
    public String output(String name, String value, OnnxMl.TensorProto.DataType type, long... dims) {
        String current = renamedOutputs.getOrDefault(value, value);
        if (!name.equals(current)) {
            OnnxMl.NodeProto.Builder producer = graph.getNodeBuilderList().stream()
                    .filter(n -> n.getOutputList().contains(current)).findFirst().orElse(null);
            boolean isOutput = graph.getOutputList().stream().anyMatch(v -> v.getName().equals(current));
            if (producer == null || isOutput || namesInUse(graph).contains(name) || reserved.contains(name)) {
                node("Identity", List.of(current), Map.of(), name);
            } else {
                for (OnnxMl.NodeProto.Builder n : graph.getNodeBuilderList()) {
                    for (int i = 0; i < n.getInputCount(); i++) if (n.getInput(i).equals(current)) n.setInput(i, name);
                    for (int i = 0; i < n.getOutputCount(); i++) if (n.getOutput(i).equals(current)) n.setOutput(i, name);
                }
                renamedOutputs.put(value, name);
            }
        }
        graph.addOutput(valueInfo(name, type, dims));
        return name;
    }

    /** Writes nodes without names from now on: their outputs' names tell them apart, and the file is smaller. */
    public OnnxGraph unnamedNodes() {
        namedNodes = false;
        return this;
    }

    public String floats(String name, float[] values, long... dims) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        return initializer(name, OnnxMl.TensorProto.DataType.FLOAT, buf.array(), dims);
    }

    public String int8s(String name, byte[] values, long... dims) {
        return initializer(name, OnnxMl.TensorProto.DataType.INT8, values, dims);
    }

    public String uint8s(String name, byte[] values, long... dims) {
        return initializer(name, OnnxMl.TensorProto.DataType.UINT8, values, dims);
    }

    /** An INT4 tensor (opset 21): {@code packed} holds two signed values a byte, the first in the low nibble. */
    public String int4s(String name, byte[] packed, long... dims) {
        return initializer(name, OnnxMl.TensorProto.DataType.INT4, packed, dims);
    }

    public String int16s(String name, short[] values, long... dims) {
        return shorts(name, OnnxMl.TensorProto.DataType.INT16, values, dims);
    }

    /** A FLOAT16 tensor of the half-precision {@code bits} ({@code dev.squeeze.compress.quant.Float16#bits}). */
    public String float16s(String name, short[] bits, long... dims) {
        return shorts(name, OnnxMl.TensorProto.DataType.FLOAT16, bits, dims);
    }

    /** A tensor of {@code type}, whose elements are 2 bytes each: {@code values}, little-endian. */
    private String shorts(String name, OnnxMl.TensorProto.DataType type, short[] values, long... dims) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * Short.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asShortBuffer().put(values);
        return initializer(name, type, buf.array(), dims);
    }

    public String int32s(String name, int[] values, long... dims) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asIntBuffer().put(values);
        return initializer(name, OnnxMl.TensorProto.DataType.INT32, buf.array(), dims);
    }

    public String int64s(String name, long[] values, long... dims) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        buf.asLongBuffer().put(values);
        return initializer(name, OnnxMl.TensorProto.DataType.INT64, buf.array(), dims);
    }

    // ---- operators --------------------------------------------------------------------------------------------

    /** Y = A·B + C (B laid out [in, out], as DL4J stores dense weights). */
    public String gemm(String a, String b, String c) {
        return node("Gemm", List.of(a, b, c), Map.of());
    }

    /** Y = alpha·A·B' + beta·C, B' = B transposed when {@code transB} ([out, in], as PyTorch exports Linear). */
    public String gemm(String a, String b, String c, boolean transB, float alpha, float beta) {
        Map<String, Object> at = attrs("transB", transB ? 1L : 0L, "alpha", alpha, "beta", beta);
        return node("Gemm", List.of(a, b, c), at);
    }

    /** numpy matmul: batched over leading dimensions. */
    public String matMul(String a, String b) {
        return node("MatMul", List.of(a, b), Map.of());
    }

    public String add(String a, String b) {
        return node("Add", List.of(a, b), Map.of());
    }

    public String div(String a, String b) {
        return node("Div", List.of(a, b), Map.of());
    }

    public String pow(String a, String b) {
        return node("Pow", List.of(a, b), Map.of());
    }

    /** Mean over {@code axes}, kept as size-1 dimensions (axes as an attribute: opset 17 and lower). */
    public String reduceMean(String x, long... axes) {
        return node("ReduceMean", List.of(x), attrs("axes", axes, "keepdims", 1L));
    }

    public String transpose(String x, long... perm) {
        return node("Transpose", List.of(x), attrs("perm", perm));
    }

    /** Rows of {@code data} picked by the int64 {@code indices}: an embedding lookup. */
    public String gather(String data, String indices) {
        return node("Gather", List.of(data, indices), Map.of("axis", 0L));
    }

    public String conv(String x, String w, String b, long[] kernel, long[] strides, long[] pads) {
        return node("Conv", List.of(x, w, b), attrs("kernel_shape", kernel, "strides", strides, "pads", pads));
    }

    public String maxPool(String x, long[] kernel, long[] strides, long[] pads) {
        return node("MaxPool", List.of(x), attrs("kernel_shape", kernel, "strides", strides, "pads", pads));
    }

    public String averagePool(String x, long[] kernel, long[] strides, long[] pads, boolean countIncludePad) {
        Map<String, Object> a = attrs("kernel_shape", kernel, "strides", strides, "pads", pads);
        a.put("count_include_pad", countIncludePad ? 1L : 0L);
        return node("AveragePool", List.of(x), a);
    }

    /** The mean over every position of each channel: [N, C, H, W] to [N, C, 1, 1]. */
    public String globalAveragePool(String x) {
        return node("GlobalAveragePool", List.of(x), Map.of());
    }

    /** The maximum over every position of each channel (float only): [N, C, H, W] to [N, C, 1, 1]. */
    public String globalMaxPool(String x) {
        return node("GlobalMaxPool", List.of(x), Map.of());
    }

    /** Row-major flatten of every dimension after the first: [N, C, H, W] to [N, C*H*W]. */
    public String flatten(String x) {
        return node("Flatten", List.of(x), Map.of("axis", 1L));
    }

    public String reshape(String x, long... shape) {
        return node("Reshape", List.of(x, int64s(fresh("shape"), shape, shape.length)), Map.of());
    }

    public String sub(String a, String b) {
        return node("Sub", List.of(a, b), Map.of());
    }

    public String mul(String a, String b) {
        return node("Mul", List.of(a, b), Map.of());
    }

    /** {@code x} converted to {@code type}. */
    public String cast(String x, OnnxMl.TensorProto.DataType type) {
        return node("Cast", List.of(x), Map.of("to", (long) type.getNumber()));
    }

    /** A tensor of {@code type} zeros, of shape {@code dims} (written as the int64 shape, not as the zeros). */
    public String zeros(OnnxMl.TensorProto.DataType type, long... dims) {
        OnnxMl.TensorProto zero = OnnxMl.TensorProto.newBuilder().setDataType(type.getNumber()).addDims(1)
                .setRawData(ByteString.copyFrom(new byte[ELEMENT_BYTES.get(type.getNumber())])).build();
        return node("ConstantOfShape", List.of(int64s(fresh("shape"), dims, dims.length)), Map.of("value", zero));
    }

    public String relu(String x) {
        return node("Relu", List.of(x), Map.of());
    }

    public String softmax(String x) {
        return node("Softmax", List.of(x), Map.of("axis", -1L));
    }

    /** An element-wise activation by its ONNX operator name (Tanh, Sigmoid, LeakyRelu, ...). */
    public String activation(String op, String x, Map<String, Object> attributes) {
        return node(op, List.of(x), attributes);
    }

    /** uint8 or int8 codes: saturate(round(x / scale) + zeroPoint), half to even. */
    public String quantizeLinear(String x, String scale, String zeroPoint) {
        return node("QuantizeLinear", List.of(x, scale, zeroPoint), Map.of(), fresh("q"));
    }

    /**
     * (q - zeroPoint) * scale; {@code axis} >= 0 for per-channel scales along that axis; {@code zeroPoint} null for
     * zero (the operator's default: no initializer written).
     */
    public String dequantizeLinear(String q, String scale, String zeroPoint, int axis) {
        String output = fresh("dq");
        return dequantizeLinear(q, scale, zeroPoint, axis, output, output + "_node");
    }

    /** {@link #dequantizeLinear(String, String, String, int)} writing {@code output} (a node of a fresh name). */
    public String dequantizeLinear(String q, String scale, String zeroPoint, int axis, String output) {
        return dequantizeLinear(q, scale, zeroPoint, axis, output, fresh("dq") + "_node");
    }

    /**
     * Blocked DequantizeLinear (opset 21): {@code scale} has the shape of {@code q} with dimension {@code axis} divided
     * into blocks of {@code blockSize} (rounded up); zero point 0 (not written).
     */
    public String dequantizeLinearBlocked(String q, String scale, int axis, int blockSize) {
        String output = fresh("dq");
        return node("DequantizeLinear", List.of(q, scale), attrs("axis", (long) axis, "block_size", (long) blockSize),
                output, output + "_node");
    }

    private String dequantizeLinear(String q, String scale, String zeroPoint, int axis, String output, String name) {
        List<String> inputs = zeroPoint == null ? List.of(q, scale) : List.of(q, scale, zeroPoint);
        return node("DequantizeLinear", inputs, axis >= 0 ? Map.of("axis", (long) axis) : Map.of(), output, name);
    }

    // ---- the model --------------------------------------------------------------------------------------------

    /**
     * @param metadata key/value pairs for the model's metadata_props (insertion order kept)
     */
    public OnnxMl.ModelProto model(long irVersion, long opset, String producerVersion, String docString,
                                   Map<String, String> metadata) {
        OnnxMl.ModelProto m = OnnxMl.ModelProto.newBuilder()
                .setIrVersion(irVersion)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setProducerName("squeeze")
                .setProducerVersion(producerVersion)
                .setGraph(graph.build())
                .build();
        return labelled(m, docString, metadata);
    }

    /** {@code model} with {@code docString} and {@code metadata} (appended to its metadata_props, in order). */
    public static OnnxMl.ModelProto labelled(OnnxMl.ModelProto model, String docString, Map<String, String> metadata) {
        OnnxMl.ModelProto.Builder m = model.toBuilder().setDocString(docString);
        metadata.forEach((k, v) -> m.addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return m.build();
    }

    /**
     * Every name {@code g} already gives a tensor or a node (initializers, sparse initializers, inputs, outputs, value
     * infos, node inputs, outputs and names): what a rewrite must not reuse for what it adds.
     */
    public static Set<String> namesInUse(OnnxMl.GraphProtoOrBuilder g) {
        Set<String> taken = new HashSet<>();
        g.getInitializerList().forEach(t -> taken.add(t.getName()));
        g.getSparseInitializerList().forEach(t -> taken.add(t.getValues().getName()));
        g.getInputList().forEach(v -> taken.add(v.getName()));
        g.getOutputList().forEach(v -> taken.add(v.getName()));
        g.getValueInfoList().forEach(v -> taken.add(v.getName()));
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            taken.addAll(n.getInputList());
            taken.addAll(n.getOutputList());
            taken.add(n.getName());
        }
        return taken;
    }

    /** {@code base}, or {@code base_2}, {@code base_3}... whichever {@code taken} does not hold; then held there. */
    public static String unusedName(String base, Set<String> taken) {
        String name = base;
        for (int i = 2; taken.contains(name); i++) name = base + "_" + i;
        taken.add(name);
        return name;
    }

    /** A new name with {@code prefix}, unique in this graph (and not reserved, nor its node's name). */
    public String fresh(String prefix) {
        while (true) {
            String name = prefix + "_" + counters.merge(prefix, 1, Integer::sum);
            if (!reserved.contains(name) && !reserved.contains(name + "_node")) return name;
        }
    }

    private String node(String op, List<String> inputs, Map<String, Object> attributes) {
        return node(op, inputs, attributes, fresh(op.toLowerCase()));
    }

    private String node(String op, List<String> inputs, Map<String, Object> attributes, String output) {
        return node(op, inputs, attributes, output, output + "_node");
    }

    private String node(String op, List<String> inputs, Map<String, Object> attributes, String output, String name) {
        OnnxMl.NodeProto.Builder n = OnnxMl.NodeProto.newBuilder().setOpType(op).addAllInput(inputs).addOutput(output);
        if (namedNodes) n.setName(name);
        attributes.forEach((k, v) -> n.addAttribute(attribute(k, v)));
        graph.addNode(n);
        return output;
    }

    /**
     * Adds a constant named {@code name} and returns its name; a constant of at most {@link #SHARED_BYTES} bytes equal
     * in type, shape and value to one already written is not written again: its name is returned instead (a
     * QuantizeLinear and the DequantizeLinear after it read one scale and one zero point, as ONNX Runtime's quantizer
     * writes them).
     */
    private String initializer(String name, OnnxMl.TensorProto.DataType type, byte[] raw, long... dims) {
        ByteString bytes = ByteString.copyFrom(raw);
        if (raw.length <= SHARED_BYTES) {
            List<Long> shape = Arrays.stream(dims).boxed().toList();
            String existing = smallConstants.putIfAbsent(new SmallConstant(type.getNumber(), shape, bytes), name);
            if (existing != null) return existing;
        }
        OnnxMl.TensorProto.Builder t = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(type.getNumber())
                .setRawData(bytes);
        for (long d : dims) t.addDims(d);
        graph.addInitializer(t);
        return name;
    }

    private static Map<String, Object> attrs(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    private static OnnxMl.AttributeProto attribute(String name, Object value) {
        OnnxMl.AttributeProto.Builder a = OnnxMl.AttributeProto.newBuilder().setName(name);
        if (value instanceof Long l) {
            a.setType(OnnxMl.AttributeProto.AttributeType.INT).setI(l);
        } else if (value instanceof Float f) {
            a.setType(OnnxMl.AttributeProto.AttributeType.FLOAT).setF(f);
        } else if (value instanceof long[] ls) {
            a.setType(OnnxMl.AttributeProto.AttributeType.INTS);
            for (long l : ls) a.addInts(l);
        } else if (value instanceof OnnxMl.TensorProto t) {
            a.setType(OnnxMl.AttributeProto.AttributeType.TENSOR).setT(t);
        } else if (value instanceof String s) {
            a.setType(OnnxMl.AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(s));
        } else {
            throw new IllegalArgumentException("attribute " + name + ": unsupported value " + value);
        }
        return a.build();
    }

    private static OnnxMl.ValueInfoProto valueInfo(String name, OnnxMl.TensorProto.DataType type, long... dims) {
        OnnxMl.TensorShapeProto.Builder shape = OnnxMl.TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam(BATCH)
                    : OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return OnnxMl.ValueInfoProto.newBuilder().setName(name).setType(OnnxMl.TypeProto.newBuilder()
                .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape))).build();
    }

}
