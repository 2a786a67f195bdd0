package dev.squeeze.compress.onnx;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;

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
 * Gather, as the quantized input of a DequantizeLinear (int8 QDQ weights and int32 biases), as the int8 weights
 * of MatMulInteger or ConvInteger, or as the input of a Cast (int8 weights of a layer with float activations); scales, zero points, shapes and other constants are left as they are, as are
 * initializers that are also graph inputs, tensors whose data is not in {@code raw_data} in the file, and element
 * types this pass does not handle (4-bit, 8-bit float, bool, string, complex). An element is zero when all its bytes
 * are, but for a float's sign bit: pruning by a mask turns each negative weight it removes into {@code -0.0}, and
 * ONNX Runtime rebuilds it as {@code +0.0}, which adds the same to every sum. "Smaller" compares the serialized
 * sizes of the two protobuf messages.
 *
 * <p>An index costs as much as an int8 value several times over, and a weight of more than 32,768 elements needs
 * 4-byte indices. With {@link SparseStorage#AUTO}, such a weight may instead be stored in <em>parts</em>: row blocks
 * along its first axis of at most 32,768 elements each (so 2-byte indices), each part sparse or dense, whichever is
 * smaller, joined by a {@code Concat} node (axis 0) whose output has the weight's name. ONNX Runtime folds that
 * constant {@code Concat} when it loads the model, before its int8 fusions, so the graph it runs is the dense one
 * again. The parted form is chosen only when its parts and node take fewer bytes than the weight whole, sparse or
 * dense; {@link #densify} folds it back.
 */
public final class SparseInitializers {
    /** Inputs read as weights, by operator; every reader of a weight must be one of these. */
    private static final Map<String, Set<Integer>> WEIGHT_INPUTS = Map.of(
            "Gemm", Set.of(0, 1, 2), "MatMul", Set.of(0, 1), "Conv", Set.of(1, 2), "ConvTranspose", Set.of(1, 2),
            "Gather", Set.of(0), "DequantizeLinear", Set.of(0), "MatMulInteger", Set.of(1), "ConvInteger", Set.of(1),
            "Cast", Set.of(0));


    /**
     * The first opset in which {@link PackedWeights}' function can be written (ScatterElements adds duplicates from 16);
     * and the IR version of model functions.
     */
    private static final long PACKED_OPSET = PackedWeights.FIRST_OPSET;
    private static final long PACKED_IR = 8;

    /** Most elements a part may have: its linearized indices then fit in int16. */
    static final int PART_ELEMENTS = Short.MAX_VALUE + 1;

    /** Field numbers of GraphProto's repeated fields, for the bytes each entry costs there. */
    private static final int NODE_FIELD = 1;
    private static final int INITIALIZER_FIELD = 5;
    private static final int SPARSE_INITIALIZER_FIELD = 15;

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
     * @param indexType   the element type of its indices ({@code INT8}, {@code INT16}, {@code INT32}, {@code INT64});
     *                    the widest of its sparse parts' when it is stored in parts
     * @param denseBytes  the dense TensorProto's serialized size
     * @param sparseBytes the SparseTensorProto's serialized size; stored in parts, the parts' and their Concat node's
     * @param parts       how many row blocks it is stored in (1: whole; 0 in outcomes written before parts existed)
     * @param packing     how it is packed ({@link PackedWeights}: its entries' bits), or null when it is a sparse
     *                    initializer or stored in parts
     */
    public record SparseTensor(String name, String reader, List<Long> shape, String type, long elements, long nonzero,
                               String indexType, long denseBytes, long sparseBytes, int parts, String packing) {
        public SparseTensor {
            parts = Math.max(1, parts);
        }

        /** How it is stored, for the commands' line on it: {@code int16 indices in 8 parts}, or how it is packed. */
        public String storageNote() {
            return packing != null ? packing : indexType.toLowerCase(java.util.Locale.ROOT) + " indices" + partsNote();
        }

        /** {@code " in N parts"} when it is stored in parts, else empty: what the commands append to its line. */
        public String partsNote() {
            return parts > 1 ? " in " + parts + " parts" : "";
        }

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
        long opset = onnxOpset(model);
        boolean parted = storage == SparseStorage.AUTO && opset >= 4;
        boolean packable = storage == SparseStorage.AUTO && opset >= PACKED_OPSET && model.getIrVersion() >= PACKED_IR;
        Set<String> weights = weights(graph);
        Set<String> taken = OnnxGraph.namesInUse(graph);
        // Each weight is encoded once: its smallest form other than packed, and packed where that is smaller still.
        Map<String, Choice> choices = new HashMap<>();
        for (OnnxMl.TensorProto t : graph.getInitializerList()) {
            if (weights.contains(t.getName())) choices.put(t.getName(), choose(t, storage, parted, packable, taken));
        }
        Map<String, String> readers = computingReaders(graph);
        Result unpacked = assemble(model, choices, readers, false, 0);
        if (choices.values().stream().noneMatch(c -> c.packed() != null)) return unpacked;
        // Packing costs the function's bytes once, so it is kept only when the whole file is smaller for it.
        Result packed = assemble(model, choices, readers, true, opset);
        return packed.model().getSerializedSize() < unpacked.model().getSerializedSize() ? packed : unpacked;
    }

    /**
     * How one weight may be stored.
     *
     * @param unpacked its smallest form other than packed, null when dense is smaller
     * @param packed   packed, when that is smaller than dense and than {@code unpacked}; else null
     */
    private record Choice(Stored unpacked, Stored packed) {
        Stored best(boolean packing) {
            return packing && packed != null ? packed : unpacked;
        }
    }

    /**
     * The file with each weight stored as {@code choices} says, packed ones as packed when {@code packing} (the
     * Unpack function in the ONNX operators of {@code opset}).
     */
    private static Result assemble(OnnxMl.ModelProto model, Map<String, Choice> choices, Map<String, String> readers,
                                   boolean packing, long opset) {
        OnnxMl.GraphProto graph = model.getGraph();
        List<OnnxMl.TensorProto> dense = new ArrayList<>();
        List<OnnxMl.SparseTensorProto> sparse = new ArrayList<>();
        List<OnnxMl.NodeProto> producers = new ArrayList<>();
        List<SparseTensor> moved = new ArrayList<>();
        for (OnnxMl.TensorProto t : graph.getInitializerList()) {
            Choice choice = choices.get(t.getName());
            Stored best = choice == null ? null : choice.best(packing);
            if (best == null) {
                dense.add(t);
                continue;
            }
            dense.addAll(best.dense());
            sparse.addAll(best.sparse());
            if (best.producer() != null) producers.add(best.producer());
            moved.add(new SparseTensor(t.getName(), readers.getOrDefault(t.getName(), "?"), List.copyOf(t.getDimsList()),
                    DataType.forNumber(t.getDataType()).name(), elements(t.getDimsList()), best.nonzero(),
                    best.indexType(), t.getSerializedSize(), best.messageBytes(), best.parts(), best.packing()));
        }
        if (moved.isEmpty()) return new Result(model, List.of());
        OnnxMl.GraphProto.Builder g = graph.toBuilder().clearInitializer().addAllInitializer(dense)
                .addAllSparseInitializer(sparse);
        if (!producers.isEmpty()) {
            // A Concat or Unpack reads only initializers, so it can come first and the nodes stay in topological order.
            g.clearNode().addAllNode(producers).addAllNode(graph.getNodeList());
        }
        OnnxMl.ModelProto.Builder out = model.toBuilder().setGraph(g);
        if (producers.stream().anyMatch(PackedWeights::isUnpack)) {
            out.addFunctions(PackedWeights.function(opset)).addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder()
                    .setDomain(PackedWeights.DOMAIN).setVersion(1));
        }
        return new Result(out.build(), moved);
    }

    /**
     * How a weight is stored when that is smaller than dense: whole and sparse ({@code parts} 1), or in row blocks
     * joined by {@code concat}.
     *
     * @param dense        the dense parts (initializers)
     * @param sparse       the sparse parts, or the whole weight sparse
     * @param producer     the node joining the parts, or unpacking the packed weight; null when whole
     * @param bytes        what its entries cost in the graph message (tags and lengths included)
     * @param messageBytes what {@link SparseTensor#sparseBytes} reports: the sparse message's size, or for parts
     *                     their cost in the graph less one entry's tag and length, so that the dense size less it is
     *                     what the file saves
     */
    private record Stored(List<OnnxMl.TensorProto> dense, List<OnnxMl.SparseTensorProto> sparse, OnnxMl.NodeProto producer,
                          long bytes, long messageBytes, long nonzero, String indexType, int parts, String packing) {
    }

    /**
     * How weight {@code t} may be stored: its smallest form other than packed (whole or in parts) where smaller than
     * dense, and packed where smaller than both. The names of both are reserved in {@code taken}, so that neither
     * file reuses them for another weight.
     */
    private static Choice choose(OnnxMl.TensorProto t, SparseStorage storage, boolean parted, boolean packable,
                                 Set<String> taken) {
        OnnxMl.SparseTensorProto whole = encode(t, storage);
        if (whole == null) return new Choice(null, null);
        long denseBytes = CodedOutputStream.computeMessageSize(INITIALIZER_FIELD, t);
        Stored best = new Stored(List.of(), List.of(whole), null,
                CodedOutputStream.computeMessageSize(SPARSE_INITIALIZER_FIELD, whole), whole.getSerializedSize(),
                whole.getValues().getDims(0), DataType.forNumber(whole.getIndices().getDataType()).name(), 1, null);
        Stored inParts = parted ? inParts(t, taken) : null;
        if (inParts != null && inParts.bytes() < best.bytes()) best = inParts;
        Stored unpacked = best.bytes() < denseBytes ? best : null;
        Stored packed = packable ? packed(t, taken) : null;
        if (packed != null && packed.bytes() >= Math.min(denseBytes, best.bytes())) packed = null;
        for (Stored s : new Stored[]{unpacked, packed}) {
            if (s == null || s.producer() == null) continue;
            if (!s.producer().getName().isEmpty()) taken.add(s.producer().getName());
            taken.addAll(s.producer().getInputList());
        }
        return new Choice(unpacked, packed);
    }

    /** Weight {@code t} packed ({@link PackedWeights}), or null when it cannot be. Its names are new to {@code taken}. */
    private static Stored packed(OnnxMl.TensorProto t, Set<String> taken) {
        Set<String> names = new HashSet<>(taken);
        PackedWeights.Packed p = PackedWeights.pack(t, OnnxGraph.ELEMENT_BYTES.get(t.getDataType()),
                FLOATS.contains(t.getDataType()),
                OnnxGraph.unusedName(t.getName() + "_bits", names), OnnxGraph.unusedName(t.getName() + "_values", names),
                OnnxGraph.unusedName(t.getName() + "_high", names));
        if (p == null) return null;
        long bytes = CodedOutputStream.computeMessageSize(INITIALIZER_FIELD, p.bits())
                + CodedOutputStream.computeMessageSize(INITIALIZER_FIELD, p.codebook())
                + CodedOutputStream.computeMessageSize(INITIALIZER_FIELD, p.high())
                + CodedOutputStream.computeMessageSize(NODE_FIELD, p.node());
        long entryOverhead = CodedOutputStream.computeMessageSize(INITIALIZER_FIELD, t) - t.getSerializedSize();
        String packing = String.format(java.util.Locale.ROOT, "packed, %.1f bits an element (%s, %d-bit codes of %d values)",
                p.bitsPerElement(), p.rice() ? "Rice gaps of " + p.gapBits() + " low bits" : p.gapBits() + "-bit gaps",
                p.codeBits(), p.codebook().getDims(0) - 1);
        return new Stored(List.of(p.bits(), p.codebook(), p.high()), List.of(), p.node(), bytes, bytes - entryOverhead, p.nonzero(),
                "none", 1, packing);
    }

    /**
     * Weight {@code t} in row blocks along its first axis of at most {@link #PART_ELEMENTS} elements, each the smaller
     * of sparse and dense, joined by a Concat node; null when it has no more elements than one part holds, or when a
     * single row has more. Its names are new to {@code taken}, which it leaves as it is.
     */
    private static Stored inParts(OnnxMl.TensorProto t, Set<String> taken) {
        long elements = elements(t.getDimsList());
        if (t.getDimsCount() == 0 || elements <= PART_ELEMENTS || t.getDims(0) < 2) return null;
        long rowElements = elements / t.getDims(0);
        if (rowElements == 0 || rowElements > PART_ELEMENTS) return null;
        int size = OnnxGraph.ELEMENT_BYTES.get(t.getDataType());
        long rowsPerPart = PART_ELEMENTS / rowElements;
        Set<String> names = new HashSet<>(taken);
        OnnxMl.NodeProto.Builder concat = OnnxMl.NodeProto.newBuilder().setOpType("Concat")
                .setName(OnnxGraph.unusedName(t.getName() + "_concat", names)).addOutput(t.getName())
                .addAttribute(OnnxMl.AttributeProto.newBuilder().setName("axis").setType(OnnxMl.AttributeProto.AttributeType.INT).setI(0));
        List<OnnxMl.TensorProto> dense = new ArrayList<>();
        List<OnnxMl.SparseTensorProto> sparse = new ArrayList<>();
        long bytes = 0;
        long nonzero = 0;
        DataType widest = DataType.INT8;
        for (long row = 0; row < t.getDims(0); row += rowsPerPart) {
            long rows = Math.min(rowsPerPart, t.getDims(0) - row);
            String name = OnnxGraph.unusedName(t.getName() + "_part" + (dense.size() + sparse.size() + 1), names);
            OnnxMl.TensorProto part = OnnxMl.TensorProto.newBuilder().setName(name).setDataType(t.getDataType())
                    .addDims(rows).addAllDims(t.getDimsList().subList(1, t.getDimsCount()))
                    .setRawData(t.getRawData().substring((int) (row * rowElements * size),
                            (int) ((row + rows) * rowElements * size))).build();
            OnnxMl.SparseTensorProto s = encode(part, SparseStorage.AUTO);
            long denseCost = CodedOutputStream.computeMessageSize(INITIALIZER_FIELD, part);
            long sparseCost = CodedOutputStream.computeMessageSize(SPARSE_INITIALIZER_FIELD, s);
            nonzero += s.getValues().getDims(0);
            if (sparseCost < denseCost) {
                sparse.add(s);
                bytes += sparseCost;
                DataType index = DataType.forNumber(s.getIndices().getDataType());
                if (index.getNumber() > widest.getNumber()) widest = index;
            } else {
                dense.add(part);
                bytes += denseCost;
            }
            concat.addInput(name);
        }
        OnnxMl.NodeProto node = concat.build();
        bytes += CodedOutputStream.computeMessageSize(NODE_FIELD, node);
        long entryOverhead = CodedOutputStream.computeMessageSize(INITIALIZER_FIELD, t) - t.getSerializedSize();
        return new Stored(dense, sparse, node, bytes, bytes - entryOverhead, nonzero, widest.name(), node.getInputCount(), null);
    }

    /** The model's ONNX operator set (the default domain's), 0 when it imports none. */
    private static long onnxOpset(OnnxMl.ModelProto model) {
        return model.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
                .mapToLong(OnnxMl.OperatorSetIdProto::getVersion).max().orElse(0);
    }

    private static long elements(List<Long> dims) {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    /**
     * How {@code model} stores its weights: {@link SparseStorage#NEVER} when it has no sparse initializer,
     * {@link SparseStorage#INT64} when every one has int64 indices, else {@link SparseStorage#AUTO}. A tool that
     * rewrites a model keeps its storage so.
     */
    public static SparseStorage storageOf(OnnxMl.ModelProto model) {
        List<OnnxMl.SparseTensorProto> sparse = model.getGraph().getSparseInitializerList();
        if (model.getGraph().getNodeList().stream().anyMatch(PackedWeights::isUnpack)) return SparseStorage.AUTO;
        if (sparse.isEmpty()) return SparseStorage.NEVER;
        boolean int64 = sparse.stream().allMatch(s -> s.getIndices().getDataType() == DataType.INT64_VALUE);
        return int64 ? SparseStorage.INT64 : SparseStorage.AUTO;
    }

    /**
     * {@code model} with each sparse initializer of its graph turned dense, as ONNX Runtime does when it loads the
     * model (appended to the initializers, raw data), and each weight stored in parts joined into one initializer
     * again (its Concat node removed), and each packed weight unpacked ({@link PackedWeights}; its Unpack node and
     * function removed): for code that reads weights from the initializers. Reads
     * linearized ({@code [NNZ]}) and coordinate ({@code [NNZ, rank]}) indices of any integer type, values in
     * {@code raw_data} or their type's field; the given model itself when it has none.
     *
     * @throws IllegalArgumentException for a sparse initializer of a type or form it does not read, naming it
     */
    public static OnnxMl.ModelProto densify(OnnxMl.ModelProto model) {
        model = unpacked(model);
        OnnxMl.GraphProto graph = model.getGraph();
        if (graph.getSparseInitializerCount() == 0) return model;
        OnnxMl.GraphProto.Builder g = graph.toBuilder().clearSparseInitializer();
        Set<String> wasSparse = new HashSet<>();
        for (OnnxMl.SparseTensorProto s : graph.getSparseInitializerList()) {
            g.addInitializer(dense(s));
            wasSparse.add(s.getValues().getName());
        }
        return model.toBuilder().setGraph(foldParts(g.build(), wasSparse)).build();
    }

    /**
     * {@code model} with each packed weight whose Unpack node reads only initializers made one initializer again; the
     * node's inputs are dropped unless another node reads them, and the function with the last Unpack node.
     */
    private static OnnxMl.ModelProto unpacked(OnnxMl.ModelProto model) {
        OnnxMl.GraphProto graph = model.getGraph();
        if (graph.getNodeList().stream().noneMatch(PackedWeights::isUnpack)) return model;
        Map<String, OnnxMl.TensorProto> inits = new HashMap<>();
        graph.getInitializerList().forEach(t -> inits.put(t.getName(), t));
        List<OnnxMl.NodeProto> kept = new ArrayList<>();
        List<OnnxMl.TensorProto> unpacked = new ArrayList<>();
        Set<String> consumed = new HashSet<>();
        for (OnnxMl.NodeProto n : graph.getNodeList()) {
            if (!PackedWeights.isUnpack(n) || n.getInputCount() < 2 || n.getInputCount() > 3
                    || !n.getInputList().stream().allMatch(inits::containsKey)) {
                kept.add(n);
                continue;
            }
            unpacked.add(PackedWeights.unpack(n, inits.get(n.getInput(0)), inits.get(n.getInput(1)),
                    n.getInputCount() == 3 ? inits.get(n.getInput(2)) : null));
            consumed.addAll(n.getInputList());
        }
        for (OnnxMl.NodeProto n : kept) n.getInputList().forEach(consumed::remove);
        OnnxMl.GraphProto.Builder g = graph.toBuilder().clearNode().addAllNode(kept).clearInitializer();
        for (OnnxMl.TensorProto t : graph.getInitializerList()) if (!consumed.contains(t.getName())) g.addInitializer(t);
        g.addAllInitializer(unpacked);
        OnnxMl.ModelProto.Builder out = model.toBuilder().setGraph(g);
        if (kept.stream().noneMatch(PackedWeights::isUnpack)) {
            List<OnnxMl.FunctionProto> others = model.getFunctionsList().stream()
                    .filter(f -> !(f.getDomain().equals(PackedWeights.DOMAIN) && f.getName().equals(PackedWeights.OP)))
                    .toList();
            boolean domainStillUsed = others.stream().anyMatch(f -> f.getDomain().equals(PackedWeights.DOMAIN));
            out.clearFunctions().addAllFunctions(others).clearOpsetImport();
            model.getOpsetImportList().stream().filter(o -> domainStillUsed || !o.getDomain().equals(PackedWeights.DOMAIN))
                    .forEach(out::addOpsetImport);
        }
        return out.build();
    }

    /**
     * {@code graph} with each weight stored in parts made one initializer again: every Concat along axis 0 that reads
     * only initializers in raw data of one type, at least one of them {@code wasSparse}, and whose output is not a
     * graph output. Its parts are dropped unless another node reads them.
     */
    private static OnnxMl.GraphProto foldParts(OnnxMl.GraphProto graph, Set<String> wasSparse) {
        Map<String, OnnxMl.TensorProto> inits = new HashMap<>();
        graph.getInitializerList().forEach(t -> inits.put(t.getName(), t));
        Set<String> outputs = new HashSet<>();
        graph.getOutputList().forEach(v -> outputs.add(v.getName()));
        List<OnnxMl.NodeProto> kept = new ArrayList<>();
        List<OnnxMl.TensorProto> joined = new ArrayList<>();
        Set<String> consumed = new HashSet<>();
        for (OnnxMl.NodeProto n : graph.getNodeList()) {
            OnnxMl.TensorProto whole = isPartsConcat(n, inits, wasSparse, outputs) ? join(n, inits) : null;
            if (whole == null) {
                kept.add(n);
                continue;
            }
            joined.add(whole);
            consumed.addAll(n.getInputList());
        }
        if (joined.isEmpty()) return graph;
        for (OnnxMl.NodeProto n : kept) n.getInputList().forEach(consumed::remove);
        OnnxMl.GraphProto.Builder g = graph.toBuilder().clearNode().addAllNode(kept).clearInitializer();
        for (OnnxMl.TensorProto t : graph.getInitializerList()) if (!consumed.contains(t.getName())) g.addInitializer(t);
        return g.addAllInitializer(joined).build();
    }

    private static boolean isPartsConcat(OnnxMl.NodeProto n, Map<String, OnnxMl.TensorProto> inits, Set<String> wasSparse,
                                         Set<String> outputs) {
        if (!n.getOpType().equals("Concat") || !n.getDomain().isEmpty() || n.getOutputCount() != 1
                || n.getInputCount() == 0 || outputs.contains(n.getOutput(0))) return false;
        boolean axis0 = n.getAttributeList().stream().anyMatch(a -> a.getName().equals("axis") && a.getI() == 0);
        if (!axis0 || n.getInputList().stream().noneMatch(wasSparse::contains)) return false;
        OnnxMl.TensorProto first = inits.get(n.getInput(0));
        if (first == null) return false;
        for (String input : n.getInputList()) {
            OnnxMl.TensorProto t = inits.get(input);
            if (t == null || !t.hasRawData() || t.getDataType() != first.getDataType() || t.getDimsCount() == 0
                    || !t.getDimsList().subList(1, t.getDimsCount()).equals(first.getDimsList().subList(1, first.getDimsCount()))
                    || !OnnxGraph.ELEMENT_BYTES.containsKey(t.getDataType())) return false;
        }
        return true;
    }

    /** The initializers a parts Concat reads, joined along axis 0 under its output's name. */
    private static OnnxMl.TensorProto join(OnnxMl.NodeProto n, Map<String, OnnxMl.TensorProto> inits) {
        OnnxMl.TensorProto first = inits.get(n.getInput(0));
        long rows = 0;
        ByteString raw = ByteString.EMPTY;
        for (String input : n.getInputList()) {
            rows += inits.get(input).getDims(0);
            raw = raw.concat(inits.get(input).getRawData());
        }
        return OnnxMl.TensorProto.newBuilder().setName(n.getOutput(0)).setDataType(first.getDataType()).addDims(rows)
                .addAllDims(first.getDimsList().subList(1, first.getDimsCount())).setRawData(raw).build();
    }

    private static OnnxMl.TensorProto dense(OnnxMl.SparseTensorProto s) {
        OnnxMl.TensorProto values = s.getValues();
        String name = values.getName();
        Integer size = OnnxGraph.ELEMENT_BYTES.get(values.getDataType());
        if (size == null || values.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL) {
            throw new IllegalArgumentException("sparse initializer '" + name + "': values of type "
                    + DataType.forNumber(values.getDataType()) + (size == null ? "" : " in external data")
                    + " are not read; store them dense");
        }
        long elements = elements(s.getDimsList());
        long nnz = elements(values.getDimsList());
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
        long count = elements(indices.getDimsList());
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
        Integer size = OnnxGraph.ELEMENT_BYTES.get(t.getDataType());
        if (size == null || !t.hasRawData() || t.getDataLocation() == OnnxMl.TensorProto.DataLocation.EXTERNAL) {
            return null;
        }
        ByteString raw = t.getRawData();
        long elements = elements(t.getDimsList());
        if (raw.size() != elements * size) return null;
        int n = (int) elements;
        boolean floating = FLOATS.contains(t.getDataType());
        long[] indices = new long[n];
        int nnz = 0;
        for (int i = 0; i < n; i++) if (!isZero(raw, i, size, floating)) indices[nnz++] = i;
        byte[] values = new byte[nnz * size];
        for (int k = 0; k < nnz; k++) raw.copyTo(values, (int) indices[k] * size, k * size, size);
        DataType indexType = storage == SparseStorage.INT64 ? DataType.INT64 : indexType(nnz == 0 ? 0 : indices[nnz - 1]);
        OnnxMl.TensorProto.Builder v = OnnxMl.TensorProto.newBuilder().setName(t.getName()).setDataType(t.getDataType())
                .addDims(nnz).setRawData(ByteString.copyFrom(values));
        OnnxMl.TensorProto.Builder idx = OnnxMl.TensorProto.newBuilder().setDataType(indexType.getNumber()).addDims(nnz)
                .setRawData(ByteString.copyFrom(littleEndian(indices, nnz, indexType)));
        return OnnxMl.SparseTensorProto.newBuilder().setValues(v).setIndices(idx).addAllDims(t.getDimsList()).build();
    }

    /**
     * Whether element {@code i} of {@code raw} ({@code size} little-endian bytes each) is zero: all its bytes are, but
     * for a float's sign bit (its last byte's top bit), since masking a negative weight leaves {@code -0.0}.
     */
    static boolean isZero(ByteString raw, int i, int size, boolean floating) {
        int signMask = floating ? 0x7f : 0xff;
        if ((raw.byteAt(i * size + size - 1) & signMask) != 0) return false;
        for (int b = 0; b < size - 1; b++) if (raw.byteAt(i * size + b) != 0) return false;
        return true;
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
