package dev.squeeze.compress.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import com.google.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rewrites a finished ONNX model so that each weight stored with many zeros (a pruned layer's) is a
 * {@code sparse_initializer} where that is smaller than the dense tensor: its non-zero values ({@code [NNZ]}, in
 * order) and their linearized indices into the dense shape ({@code [NNZ]}, ascending), as the ONNX standard's
 * {@code SparseTensorProto} lays them out. ONNX Runtime turns sparse initializers dense when it loads a model
 * (values at their indices, zeros elsewhere), so the graph it optimizes and runs is the dense one: the same kernels,
 * the same outputs. Only the file shrinks.
 *
 * <p>A weight is an initializer read only as an input of Gemm, MatMul, Conv or ConvTranspose, as the data of a
 * Gather, as the quantized input of a DequantizeLinear (int8 QDQ weights and int32 biases), or as the int8 weights
 * of MatMulInteger or ConvInteger; scales, zero points, shapes and other constants are left as they are, as are
 * initializers that are also graph inputs, tensors whose data is not in {@code raw_data} in the file, and element
 * types this pass does not handle (4-bit, 8-bit float, bool, string, complex). An element is zero when all its bytes
 * are, but for a float's sign bit: pruning by a mask turns each negative weight it removes into {@code -0.0}, and
 * ONNX Runtime rebuilds it as {@code +0.0}, which adds the same to every sum. "Smaller" compares the serialized
 * sizes of the two protobuf messages.
 */
public final class SparseInitializers {
    /** Inputs read as weights, by operator; every reader of a weight must be one of these. */
    private static final Map<String, Set<Integer>> WEIGHT_INPUTS = Map.of(
            "Gemm", Set.of(0, 1, 2), "MatMul", Set.of(0, 1), "Conv", Set.of(1, 2), "ConvTranspose", Set.of(1, 2),
            "Gather", Set.of(0), "DequantizeLinear", Set.of(0), "MatMulInteger", Set.of(1), "ConvInteger", Set.of(1));

    /** Bytes per element of the types this pass handles. */
    private static final Map<Integer, Integer> ELEMENT_BYTES = Map.ofEntries(
            Map.entry(DataType.FLOAT_VALUE, 4), Map.entry(DataType.DOUBLE_VALUE, 8),
            Map.entry(DataType.FLOAT16_VALUE, 2), Map.entry(DataType.BFLOAT16_VALUE, 2),
            Map.entry(DataType.INT8_VALUE, 1), Map.entry(DataType.UINT8_VALUE, 1),
            Map.entry(DataType.INT16_VALUE, 2), Map.entry(DataType.UINT16_VALUE, 2),
            Map.entry(DataType.INT32_VALUE, 4), Map.entry(DataType.UINT32_VALUE, 4),
            Map.entry(DataType.INT64_VALUE, 8), Map.entry(DataType.UINT64_VALUE, 8));

    /** The floating-point types among them, whose zero has two signs. */
    private static final Set<Integer> FLOATS = Set.of(DataType.FLOAT_VALUE, DataType.DOUBLE_VALUE,
            DataType.FLOAT16_VALUE, DataType.BFLOAT16_VALUE);

    private SparseInitializers() {
    }

    /**
     * A weight written sparse.
     *
     * @param name        the initializer's name
     * @param reader      the operator that computes with it (Gemm, Conv, ...; through its DequantizeLinear when int8)
     * @param shape       its dense shape
     * @param type        its element type ({@code FLOAT}, {@code INT8}, ...)
     * @param elements    how many elements the dense tensor has
     * @param nonzero     how many elements are stored (NNZ)
     * @param indexType   the element type of its indices ({@code INT8}, {@code INT16}, {@code INT32}, {@code INT64})
     * @param denseBytes  the dense TensorProto's serialized size
     * @param sparseBytes the SparseTensorProto's serialized size
     */
    public record SparseTensor(String name, String reader, List<Long> shape, String type, long elements, long nonzero,
                               String indexType, long denseBytes, long sparseBytes) {
        /** The share of elements stored. */
        public double density() {
            return elements == 0 ? 0 : (double) nonzero / elements;
        }

        public long savedBytes() {
            return denseBytes - sparseBytes;
        }
    }

    /**
     * @param model   the rewritten model; the given one itself when nothing was smaller sparse (or storage is never)
     * @param tensors the weights written sparse, in the order of the graph's initializers
     */
    public record Result(OnnxMl.ModelProto model, List<SparseTensor> tensors) {
        public Result {
            tensors = List.copyOf(tensors);
        }
    }

    /** {@code model} with each weight that is smaller sparse moved to the graph's sparse initializers. */
    public static Result apply(OnnxMl.ModelProto model, SparseStorage storage) {
        if (storage == SparseStorage.NEVER) return new Result(model, List.of());
        OnnxMl.GraphProto graph = model.getGraph();
        Set<String> weights = weights(graph);
        Map<String, String> readers = computingReaders(graph);
        List<OnnxMl.TensorProto> dense = new ArrayList<>();
        List<OnnxMl.SparseTensorProto> sparse = new ArrayList<>();
        List<SparseTensor> moved = new ArrayList<>();
        for (OnnxMl.TensorProto t : graph.getInitializerList()) {
            OnnxMl.SparseTensorProto s = weights.contains(t.getName()) ? encode(t, storage) : null;
            if (s == null || s.getSerializedSize() >= t.getSerializedSize()) {
                dense.add(t);
                continue;
            }
            sparse.add(s);
            long elements = 1;
            for (long d : t.getDimsList()) elements *= d;
            moved.add(new SparseTensor(t.getName(), readers.getOrDefault(t.getName(), "?"), List.copyOf(t.getDimsList()),
                    DataType.forNumber(t.getDataType()).name(), elements, s.getValues().getDims(0),
                    DataType.forNumber(s.getIndices().getDataType()).name(), t.getSerializedSize(), s.getSerializedSize()));
        }
        if (moved.isEmpty()) return new Result(model, List.of());
        OnnxMl.GraphProto.Builder g = graph.toBuilder().clearInitializer().addAllInitializer(dense)
                .addAllSparseInitializer(sparse);
        return new Result(model.toBuilder().setGraph(g).build(), moved);
    }

    /**
     * How {@code model} stores its weights: {@link SparseStorage#NEVER} when it has no sparse initializer,
     * {@link SparseStorage#INT64} when every one has int64 indices, else {@link SparseStorage#AUTO}. A tool that
     * rewrites a model keeps its storage so.
     */
    public static SparseStorage storageOf(OnnxMl.ModelProto model) {
        List<OnnxMl.SparseTensorProto> sparse = model.getGraph().getSparseInitializerList();
        if (sparse.isEmpty()) return SparseStorage.NEVER;
        boolean int64 = sparse.stream().allMatch(s -> s.getIndices().getDataType() == DataType.INT64_VALUE);
        return int64 ? SparseStorage.INT64 : SparseStorage.AUTO;
    }

    /**
     * {@code model} with each sparse initializer of its graph turned dense, as ONNX Runtime does when it loads the
     * model (appended to the initializers, raw data): for code that reads weights from the initializers. Reads
     * linearized ({@code [NNZ]}) and coordinate ({@code [NNZ, rank]}) indices of any integer type, values in
     * {@code raw_data} or their type's field; the given model itself when it has none.
     *
     * @throws IllegalArgumentException for a sparse initializer of a type or form it does not read, naming it
     */
    public static OnnxMl.ModelProto densify(OnnxMl.ModelProto model) {
        OnnxMl.GraphProto graph = model.getGraph();
        if (graph.getSparseInitializerCount() == 0) return model;
        OnnxMl.GraphProto.Builder g = graph.toBuilder().clearSparseInitializer();
        for (OnnxMl.SparseTensorProto s : graph.getSparseInitializerList()) g.addInitializer(dense(s));
        return model.toBuilder().setGraph(g).build();
    }

    private static OnnxMl.TensorProto dense(OnnxMl.SparseTensorProto s) {
        OnnxMl.TensorProto values = s.getValues();
        String name = values.getName();
        Integer size = ELEMENT_BYTES.get(values.getDataType());
        if (size == null || values.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL) {
            throw new IllegalArgumentException("sparse initializer '" + name + "': values of type "
                    + DataType.forNumber(values.getDataType()) + (size == null ? "" : " in external data")
                    + " are not read; store them dense");
        }
        long elements = 1;
        for (long d : s.getDimsList()) elements *= d;
        long nnz = 1;
        for (long d : values.getDimsList()) nnz *= d;
        byte[] stored = elementBytes(values, nnz, size);
        long[] at = linearIndices(s, nnz);
        byte[] dense = new byte[Math.toIntExact(elements * size)];
        for (int k = 0; k < nnz; k++) {
            if (at[k] < 0 || at[k] >= elements) {
                throw new IllegalArgumentException("sparse initializer '" + name + "': index " + at[k] + " outside its "
                        + elements + " elements");
            }
            System.arraycopy(stored, k * size, dense, (int) at[k] * size, size);
        }
        return OnnxMl.TensorProto.newBuilder().setName(name).setDataType(values.getDataType())
                .addAllDims(s.getDimsList()).setRawData(ByteString.copyFrom(dense)).build();
    }

    /** The {@code count} elements of {@code t}, {@code size} little-endian bytes each, from raw data or typed fields. */
    private static byte[] elementBytes(OnnxMl.TensorProto t, long count, int size) {
        if (t.hasRawData()) {
            if (t.getRawData().size() != count * size) {
                throw new IllegalArgumentException("tensor '" + t.getName() + "': " + t.getRawData().size()
                        + " bytes of raw data for " + count + " elements of " + size + " bytes");
            }
            return t.getRawData().toByteArray();
        }
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(count * size)).order(ByteOrder.LITTLE_ENDIAN);
        int type = t.getDataType();
        List<? extends Number> field = type == DataType.FLOAT_VALUE ? t.getFloatDataList()
                : type == DataType.DOUBLE_VALUE ? t.getDoubleDataList()
                : type == DataType.INT64_VALUE ? t.getInt64DataList()
                : type == DataType.UINT32_VALUE || type == DataType.UINT64_VALUE ? t.getUint64DataList()
                : t.getInt32DataList();   // int8, uint8, int16, uint16, int32, float16, bfloat16
        if (field.size() != count) {
            throw new IllegalArgumentException("tensor '" + t.getName() + "': " + field.size() + " values for " + count
                    + " elements");
        }
        for (Number v : field) {
            if (type == DataType.FLOAT_VALUE) out.putFloat(v.floatValue());
            else if (type == DataType.DOUBLE_VALUE) out.putDouble(v.doubleValue());
            else for (int b = 0; b < size; b++) out.put((byte) (v.longValue() >>> (8 * b)));
        }
        return out.array();
    }

    /** The indices of {@code s}'s values into its dense shape, linearized. */
    private static long[] linearIndices(OnnxMl.SparseTensorProto s, long nnz) {
        OnnxMl.TensorProto indices = s.getIndices();
        int width = switch (DataType.forNumber(indices.getDataType())) {
            case INT8 -> 1;
            case INT16 -> 2;
            case INT32 -> 4;
            case INT64 -> 8;
            default -> throw new IllegalArgumentException("sparse initializer '" + s.getValues().getName()
                    + "': indices of type " + DataType.forNumber(indices.getDataType()) + "; ONNX allows int64");
        };
        long count = 1;
        for (long d : indices.getDimsList()) count *= d;
        long[] flat = new long[Math.toIntExact(count)];
        if (indices.hasRawData()) {
            ByteBuffer raw = indices.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            if (raw.remaining() != count * width) {
                throw new IllegalArgumentException("sparse initializer '" + s.getValues().getName() + "': "
                        + raw.remaining() + " bytes of indices for " + count + " of " + width + " bytes");
            }
            for (int i = 0; i < flat.length; i++) {
                flat[i] = switch (width) {
                    case 1 -> raw.get();
                    case 2 -> raw.getShort();
                    case 4 -> raw.getInt();
                    default -> raw.getLong();
                };
            }
        } else {
            List<? extends Number> field = width == 8 ? indices.getInt64DataList() : indices.getInt32DataList();
            if (field.size() != count) {
                throw new IllegalArgumentException("sparse initializer '" + s.getValues().getName() + "': "
                        + field.size() + " indices for " + count);
            }
            for (int i = 0; i < flat.length; i++) flat[i] = field.get(i).longValue();
        }
        int rank = s.getDimsCount();
        if (indices.getDimsCount() == 1 && count == nnz) return flat;
        if (indices.getDimsCount() != 2 || indices.getDims(0) != nnz || indices.getDims(1) != rank) {
            throw new IllegalArgumentException("sparse initializer '" + s.getValues().getName() + "': indices of shape "
                    + indices.getDimsList() + " for " + nnz + " values of a rank-" + rank + " tensor");
        }
        long[] linear = new long[(int) nnz];
        for (int k = 0; k < nnz; k++) {
            long at = 0;
            for (int j = 0; j < rank; j++) at = at * s.getDims(j) + flat[k * rank + j];
            linear[k] = at;
        }
        return linear;
    }

    /** Initializers every reader of which reads as a weight (and that are not graph inputs). */
    private static Set<String> weights(OnnxMl.GraphProto graph) {
        Set<String> asWeight = new HashSet<>();
        Set<String> otherwise = new HashSet<>();
        for (OnnxMl.ValueInfoProto input : graph.getInputList()) otherwise.add(input.getName());
        for (OnnxMl.NodeProto n : graph.getNodeList()) {
            Set<Integer> roles = WEIGHT_INPUTS.getOrDefault(n.getOpType(), Set.of());
            for (int i = 0; i < n.getInputCount(); i++) {
                (n.getDomain().isEmpty() && roles.contains(i) ? asWeight : otherwise).add(n.getInput(i));
            }
        }
        asWeight.removeAll(otherwise);
        return asWeight;
    }

    /** For each tensor a node reads, the operator that computes with it: the reader, or a DequantizeLinear's reader. */
    private static Map<String, String> computingReaders(OnnxMl.GraphProto graph) {
        Map<String, String> readerOf = new HashMap<>();
        for (OnnxMl.NodeProto n : graph.getNodeList()) {
            for (String input : n.getInputList()) readerOf.putIfAbsent(input, n.getOpType());
        }
        Map<String, String> out = new HashMap<>(readerOf);
        for (OnnxMl.NodeProto n : graph.getNodeList()) {
            if (n.getOpType().equals("DequantizeLinear") && n.getInputCount() > 0 && n.getOutputCount() > 0) {
                String next = readerOf.get(n.getOutput(0));
                if (next != null) out.put(n.getInput(0), next);
            }
        }
        return out;
    }

    /** {@code t} as a sparse tensor, or null when this pass does not handle its type or storage. */
    private static OnnxMl.SparseTensorProto encode(OnnxMl.TensorProto t, SparseStorage storage) {
        Integer size = ELEMENT_BYTES.get(t.getDataType());
        if (size == null || !t.hasRawData() || t.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL) {
            return null;
        }
        ByteString raw = t.getRawData();
        long elements = 1;
        for (long d : t.getDimsList()) elements *= d;
        if (raw.size() != elements * size) return null;
        int n = (int) elements;
        // A float's sign bit is its last byte's top bit (little-endian): masking a negative weight leaves -0.0.
        int signMask = FLOATS.contains(t.getDataType()) ? 0x7f : 0xff;
        long[] indices = new long[n];
        int nnz = 0;
        for (int i = 0; i < n; i++) {
            boolean zero = (raw.byteAt(i * size + size - 1) & signMask) == 0;
            for (int b = 0; zero && b < size - 1; b++) zero = raw.byteAt(i * size + b) == 0;
            if (!zero) indices[nnz++] = i;
        }
        byte[] values = new byte[nnz * size];
        for (int k = 0; k < nnz; k++) raw.copyTo(values, (int) indices[k] * size, k * size, size);
        DataType indexType = storage == SparseStorage.INT64 ? DataType.INT64 : indexType(nnz == 0 ? 0 : indices[nnz - 1]);
        OnnxMl.TensorProto.Builder v = OnnxMl.TensorProto.newBuilder().setName(t.getName()).setDataType(t.getDataType())
                .addDims(nnz).setRawData(ByteString.copyFrom(values));
        OnnxMl.TensorProto.Builder idx = OnnxMl.TensorProto.newBuilder().setDataType(indexType.getNumber()).addDims(nnz)
                .setRawData(ByteString.copyFrom(littleEndian(indices, nnz, indexType)));
        return OnnxMl.SparseTensorProto.newBuilder().setValues(v).setIndices(idx).addAllDims(t.getDimsList()).build();
    }

    /** The smallest signed type that holds {@code max}, as ONNX Runtime's own sparsifier picks it. */
    private static DataType indexType(long max) {
        if (max <= Byte.MAX_VALUE) return DataType.INT8;
        if (max <= Short.MAX_VALUE) return DataType.INT16;
        if (max <= Integer.MAX_VALUE) return DataType.INT32;
        return DataType.INT64;
    }

    private static byte[] littleEndian(long[] indices, int count, DataType type) {
        int width = switch (type) {
            case INT8 -> 1;
            case INT16 -> 2;
            case INT32 -> 4;
            default -> 8;
        };
        ByteBuffer buf = ByteBuffer.allocate(count * width).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < count; k++) {
            switch (width) {
                case 1 -> buf.put((byte) indices[k]);
                case 2 -> buf.putShort((short) indices[k]);
                case 4 -> buf.putInt((int) indices[k]);
                default -> buf.putLong(indices[k]);
            }
        }
        return buf.array();
    }
}
