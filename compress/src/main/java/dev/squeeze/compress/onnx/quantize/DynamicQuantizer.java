package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import com.google.protobuf.ByteString;
import dev.squeeze.compress.onnx.OnnxGraph;
import dev.squeeze.compress.quant.Granularity;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.core.BadInputException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Dynamic int8 quantization of an ONNX graph, written the way ONNX Runtime's Python {@code quantize_dynamic} writes it,
 * so that ONNX Runtime runs it with its integer kernels:
 * <ul>
 *   <li>MatMul with a constant 2-D weight B [K, N]: {@code DynamicQuantizeLinear} on the activation (uint8, scale and
 *   zero point computed per call), {@code MatMulInteger} with B as symmetric int8 (zero point 0), {@code Cast} to
 *   float, and {@code Mul} by activation scale × weight scale: one scale per column of B (per output channel) by
 *   default, or one for the whole tensor. ONNX Runtime fuses the four into {@code DynamicQuantizeMatMul}.</li>
 *   <li>Gemm (transA 0) the same, B transposed first when transB is 1, alpha folded into the weight scales and
 *   beta × C added after. (ONNX Runtime's own quantizer leaves Gemm float.)</li>
 *   <li>Conv with a constant weight, when it pays: {@code ConvInteger}, whose CPU kernel takes uint8 weights with one
 *   zero point, so the weight is symmetric int8 shifted by 128 (zero point 128) with per-output-channel scales applied
 *   after, then the bias added.</li>
 *   <li>Gather (axis 0) of rows of a constant 2-D float table (an embedding), when it pays: the table stored as
 *   symmetric int8 codes, {@code Gather} on the codes with the same indices, then back to float: with one scale per
 *   row (the default), the rows' scales, stored as a float16 [rows, 1] table, gathered with the same indices, and
 *   {@code Cast} and {@code Mul}; with one scale for the table, {@code DequantizeLinear}, as ONNX Runtime's quantizer
 *   writes it. Only the looked-up rows are converted, so the cost at run time is one small element-wise step; what
 *   is gained is the file's size (a quarter of the table's).</li>
 * </ul>
 * Every other node is kept as it is, as are the graph's inputs, outputs and their types (an int64 token id input
 * passes untouched). An activation feeding several quantized nodes is quantized once.
 *
 * <p>What pays: ONNX Runtime's integer kernels win when each output is a long enough integer dot product. A MatMul or
 * Gemm is quantized when its weight has at least {@value #MIN_MATMUL_WEIGHTS} elements; a Conv when it is not
 * grouped and its dot product (input channels × kernel area) is at least {@value #MIN_CONV_DOT} long (a first
 * convolution over 1 or 3 image channels is not: ONNX Runtime's ConvInteger is slower there than float); a Gather
 * when its table has at least {@value #MIN_GATHER_TABLE} values and no other node reads the table as float (a tied
 * embedding also read by a MatMul left float, say): the float table would then stay in the file and the codes
 * would only add to it. A table read by several int8 nodes, as the weight of each, goes: the Gathers share one set
 * of codes, and a MatMul or Gemm has its own.
 */
public final class DynamicQuantizer {
    /** Fewest weight elements for which a MatMul or Gemm is quantized. */
    public static final long MIN_MATMUL_WEIGHTS = 1024;
    /** Shortest per-output dot product (input channels × kernel area) for which a Conv is quantized. */
    public static final long MIN_CONV_DOT = 64;
    /** Fewest values for which a Gather's table is quantized. */
    public static final long MIN_GATHER_TABLE = 1024;
    /** The largest finite float16: a table's row scales (max |row| / 127) must stay below it. */
    private static final float MAX_FLOAT16 = 65504f;
    /** The lowest default-domain opset with DynamicQuantizeLinear. */
    public static final long MIN_OPSET = 11;
    /** Operators that mark a graph as already quantized. */
    static final Set<String> QUANTIZED_OPS = Set.of("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
            "MatMulInteger", "ConvInteger", "QGemm", "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "QAttention",
            "DynamicQuantizeLSTM", "QEmbedLayerNormalization", "QOrderedMatMul", "MatMulNBits", "MatMulBnb4");

    static final String ACTIVATIONS = "activation × activation: the weight is computed at run time";
    static final String COMPUTED_BIAS = "the bias is computed at run time";

    /**
     * When a candidate is worth quantizing, for the integer kernels a mode writes: the thresholds below which the
     * integer kernel is slower than float, and what the kernels cannot take.
     *
     * @param mode             {@code dynamic} or {@code static}
     * @param convKernel       the integer convolution the mode's graph fuses into, for reasons
     * @param minMatMulWeights fewest weight elements for which a MatMul or Gemm is quantized
     * @param minConvDot       shortest per-output dot product (input channels × kernel area) for which a Conv is
     * @param groupedConv      whether a grouped (depthwise) Conv is quantized
     * @param gemmBiasVector   whether a Gemm's bias C must be a constant [N] vector (static mode: QGemm takes it int32)
     * @param minOpset         the lowest default-domain opset the mode's operators need; a lower one is raised to it
     * @param gatherTables     whether a Gather's constant table is stored int8 (static mode does not write them yet)
     */
    public record PayRule(String mode, String convKernel, long minMatMulWeights, long minConvDot, boolean groupedConv,
                          boolean gemmBiasVector, long minOpset, boolean gatherTables) {
    }

    /** Dynamic mode's rule: see the class comment. */
    public static final PayRule PAYS = new PayRule(QuantParams.DYNAMIC, "ConvInteger", MIN_MATMUL_WEIGHTS, MIN_CONV_DOT,
            false, false, MIN_OPSET, true);
    static final String KEPT = "--keep-float";

    private static final int FLOAT = OnnxMl.TensorProto.DataType.FLOAT.getNumber();
    /** Floating-point tables other than float32: Gather candidates, reported and left float. */
    private static final Set<Integer> OTHER_FLOATS = Set.of(OnnxMl.TensorProto.DataType.FLOAT16.getNumber(),
            OnnxMl.TensorProto.DataType.BFLOAT16.getNumber(), OnnxMl.TensorProto.DataType.DOUBLE.getNumber());

    private DynamicQuantizer() {
    }

    /** What {@link #plan} decided, and the opset the quantized graph will declare. */
    public record Plan(List<OnnxCandidate> candidates, long opsetBefore, long opsetAfter) {
        public long quantizedCount() {
            return candidates.stream().filter(OnnxCandidate::quantized).count();
        }

        /** This plan with other decisions for the same candidates (a node left float for the budget). */
        Plan with(List<OnnxCandidate> decided) {
            return new Plan(decided, opsetBefore, opsetAfter);
        }
    }

    /** The quantized model and the plan it followed. */
    public record Result(OnnxMl.ModelProto model, Plan plan) {
    }

    /** {@link #plan(OnnxMl.ModelProto, Set, PayRule)} for dynamic mode. */
    public static Plan plan(OnnxMl.ModelProto model, Set<String> keepFloat) {
        return plan(model, keepFloat, PAYS);
    }

    /**
     * Finds every candidate and decides which to quantize, by {@code rule} (the mode's: what pays differs between
     * dynamic and static kernels).
     *
     * @param keepFloat node names to leave float
     * @throws BadInputException when the model is already quantized, names in {@code keepFloat} are not candidates, or
     *                           nothing would be quantized
     */
    public static Plan plan(OnnxMl.ModelProto model, Set<String> keepFloat, PayRule rule) {
        OnnxMl.GraphProto g = model.getGraph();
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            if (QUANTIZED_OPS.contains(n.getOpType()) || n.getOpType().startsWith("QLinear")) {
                throw new BadInputException("the model is already quantized (node '" + name(n) + "' is a " + n.getOpType()
                        + "); quantize the float model it was made from");
            }
        }
        Map<String, OnnxMl.TensorProto> init = initializers(g);
        Set<String> inputs = g.getInputList().stream().map(OnnxMl.ValueInfoProto::getName).collect(Collectors.toSet());
        List<OnnxCandidate> out = new ArrayList<>();
        Map<OnnxMl.NodeProto, OnnxCandidate> byNode = new IdentityHashMap<>();
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            OnnxCandidate c = decide(n, init, inputs, rule);
            if (c == null) continue;
            if (c.quantized() && keepFloat.contains(c.node())) c = c.leftFloat(KEPT);
            out.add(c);
            byNode.put(n, c);
        }
        leaveSharedTablesFloat(g, out, byNode);
        Set<String> names = out.stream().map(OnnxCandidate::node).collect(Collectors.toSet());
        Set<String> unknown = new TreeSet<>(keepFloat);
        unknown.removeAll(names);
        if (!unknown.isEmpty()) {
            throw new BadInputException("--keep-float " + String.join(",", unknown) + ": no MatMul, Gemm, Conv or Gather "
                    + "node of that name; the candidates are " + abbreviated(out.stream().map(OnnxCandidate::node).toList()));
        }
        if (out.isEmpty()) {
            throw new BadInputException("the model has no MatMul, Gemm or Conv node and no Gather of a constant table: "
                    + "nothing for int8 to make smaller");
        }
        if (out.stream().noneMatch(OnnxCandidate::quantized)) {
            throw new BadInputException("no node of the model is worth quantizing: " + abbreviated(out.stream()
                    .map(c -> c.node() + " (" + c.reason() + ")").toList()));
        }
        long opset = defaultOpset(model);
        return new Plan(out, opset, Math.max(opset, rule.minOpset()));
    }

    /** Rewrites the candidates {@code plan} marks quantized; everything else is kept as it is. */
    public static Result quantize(OnnxMl.ModelProto model, Plan plan, Granularity granularity) {
        OnnxMl.GraphProto g = model.getGraph();
        Map<String, OnnxMl.TensorProto> init = initializers(g);
        // Node names need not be unique in ONNX: a node is known by its name, op and weight.
        Map<String, OnnxCandidate> chosen = new HashMap<>();
        for (OnnxCandidate c : plan.candidates()) if (c.quantized()) chosen.put(key(c.node(), c.op(), c.weight()), c);
        Rewriter w = new Rewriter(g, init, granularity);
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            OnnxCandidate c = n.getInputCount() < 2 ? null : chosen.get(key(name(n), n.getOpType(), weightInput(n)));
            if (c == null) {
                w.nodes.add(n);
            } else {
                switch (n.getOpType()) {
                    case "MatMul" -> w.matMul(n);
                    case "Gemm" -> w.gemm(n);
                    case "Conv" -> w.conv(n);
                    case "Gather" -> w.gather(n);
                    default -> throw new IllegalStateException(n.getOpType());
                }
            }
        }
        return new Result(rewritten(model, w.nodes, w.added, plan.opsetAfter()), plan);
    }

    /**
     * {@code model} with its graph's nodes replaced by {@code nodes}, {@code added} initializers, and its default-domain
     * opset raised to {@code opset} when lower. Float weights no node reads any more go; one another node still reads
     * (a tied embedding) stays.
     */
    static OnnxMl.ModelProto rewritten(OnnxMl.ModelProto model, List<OnnxMl.NodeProto> nodes,
                                       List<OnnxMl.TensorProto> added, long opset) {
        OnnxMl.GraphProto g = model.getGraph();
        Set<String> read = new HashSet<>();
        for (OnnxMl.NodeProto n : nodes) read.addAll(reads(n));
        read.addAll(g.getOutputList().stream().map(OnnxMl.ValueInfoProto::getName).toList());
        OnnxMl.GraphProto.Builder graph = g.toBuilder().clearNode().addAllNode(nodes).clearInitializer();
        for (OnnxMl.TensorProto t : g.getInitializerList()) if (read.contains(t.getName())) graph.addInitializer(t);
        graph.addAllInitializer(added);
        OnnxMl.ModelProto.Builder m = model.toBuilder().setGraph(graph);
        for (int i = 0; i < m.getOpsetImportCount(); i++) {
            OnnxMl.OperatorSetIdProto o = m.getOpsetImport(i);
            if (isDefaultDomain(o.getDomain()) && o.getVersion() < opset) {
                m.setOpsetImport(i, o.toBuilder().setVersion(opset));
            }
        }
        return m.build();
    }

    /** The candidate {@code n} is, or null when it is not a MatMul, Gemm, Conv or Gather of a constant table. */
    private static OnnxCandidate decide(OnnxMl.NodeProto n, Map<String, OnnxMl.TensorProto> init, Set<String> inputs,
                                        PayRule rule) {
        String op = n.getOpType();
        if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) return null;
        if (op.equals("Gather")) return gather(n, init, inputs, rule);
        if (!op.equals("MatMul") && !op.equals("Gemm") && !op.equals("Conv")) return null;
        if (n.getInputCount() < 2) return null;
        OnnxMl.TensorProto w = init.get(n.getInput(1));
        if (w == null) return new OnnxCandidate(name(n), op, null, List.of(), false, ACTIVATIONS);
        OnnxCandidate c = new OnnxCandidate(name(n), op, w.getName(), w.getDimsList(), true, null);
        if (inputs.contains(w.getName())) return c.leftFloat("the weight is also a graph input, so it may be replaced");
        if (w.getDataType() != FLOAT) {
            return c.leftFloat("the weight is " + OnnxMl.TensorProto.DataType.forNumber(w.getDataType()) + ", not float32");
        }
        if (init.containsKey(n.getInput(0))) return c.leftFloat("both inputs are constants");
        if (op.equals("Conv")) {
            if (w.getDimsCount() < 3) return c.leftFloat("the weight is not [out, in, kernel...]");
            if (n.getInputCount() > 2 && !n.getInput(2).isEmpty() && !init.containsKey(n.getInput(2))) {
                return c.leftFloat(COMPUTED_BIAS);
            }
            long group = intAttribute(n, "group", 1);
            if (group != 1 && !rule.groupedConv()) {
                return c.leftFloat("grouped convolution (group " + group + "): " + rule.convKernel() + " does not pay");
            }
            long dot = OnnxModelFile.elements(w.getDimsList()) / w.getDims(0);
            if (dot < rule.minConvDot()) {
                return c.leftFloat("too small to pay: " + dot + " inputs per output < " + rule.minConvDot());
            }
            return c;
        }
        if (w.getDimsCount() != 2) return c.leftFloat("the weight is " + w.getDimsCount() + "-D, not 2-D");
        if (op.equals("Gemm") && intAttribute(n, "transA", 0) != 0) return c.leftFloat("transA 1: the activation is transposed");
        if (op.equals("Gemm") && rule.gemmBiasVector() && n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
            OnnxMl.TensorProto bias = init.get(n.getInput(2));
            if (bias == null) return c.leftFloat(COMPUTED_BIAS);
            long outs = w.getDims(intAttribute(n, "transB", 0) != 0 ? 0 : 1);
            if (bias.getDataType() != FLOAT || bias.getDimsCount() != 1 || bias.getDims(0) != outs) {
                return c.leftFloat("the bias is not a float32 [" + outs + "] vector, which QGemm needs as int32");
            }
        }
        if (c.weights() < rule.minMatMulWeights()) {
            return c.leftFloat("too small to pay: " + c.weights() + " weights < " + rule.minMatMulWeights());
        }
        return c;
    }

    /**
     * A Gather of a constant floating-point table, or null for any other Gather: one of computed values (shapes) or of
     * an integer table, which int8 would not make smaller.
     */
    private static OnnxCandidate gather(OnnxMl.NodeProto n, Map<String, OnnxMl.TensorProto> init, Set<String> inputs,
                                        PayRule rule) {
        OnnxMl.TensorProto t = n.getInputCount() < 2 ? null : init.get(n.getInput(0));
        if (t == null || (t.getDataType() != FLOAT && !OTHER_FLOATS.contains(t.getDataType()))) return null;
        OnnxCandidate c = new OnnxCandidate(name(n), n.getOpType(), t.getName(), t.getDimsList(), true, null);
        if (inputs.contains(t.getName())) return c.leftFloat("the table is also a graph input, so it may be replaced");
        if (t.getDataType() != FLOAT) {
            return c.leftFloat("the table is " + OnnxMl.TensorProto.DataType.forNumber(t.getDataType()) + ", not float32");
        }
        if (init.containsKey(n.getInput(1))) return c.leftFloat("both inputs are constants");
        if (!rule.gatherTables()) {
            return c.leftFloat(rule.mode() + " mode writes Gather tables float (not built yet); --mode dynamic stores them int8");
        }
        if (t.getDimsCount() != 2) return c.leftFloat("the table is " + t.getDimsCount() + "-D, not 2-D [rows, width]");
        long axis = intAttribute(n, "axis", 0);
        if (axis != 0 && axis != -2) return c.leftFloat("axis " + axis + ": only whole rows (axis 0) are quantized");
        if (c.weights() < MIN_GATHER_TABLE) {
            return c.leftFloat("too small to pay: " + c.weights() + " values < " + MIN_GATHER_TABLE);
        }
        float max = 0;
        for (float v : floats(t)) max = Math.max(max, Math.abs(v));
        if (!(max / 127 < MAX_FLOAT16)) return c.leftFloat("values up to " + max + ": a row's scale would pass float16's");
        return c;
    }

    /**
     * Leaves float each int8 Gather whose table another node reads other than as the weight of an int8 node (a tied
     * embedding read by a MatMul left float, another Gather kept float, a graph output): that node keeps the float
     * table in the file, so the Gather's codes would add a quarter of the table instead of saving three quarters.
     */
    private static void leaveSharedTablesFloat(OnnxMl.GraphProto g, List<OnnxCandidate> candidates,
                                               Map<OnnxMl.NodeProto, OnnxCandidate> byNode) {
        Map<String, List<OnnxMl.NodeProto>> readers = new HashMap<>();
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            for (String name : reads(n)) readers.computeIfAbsent(name, k -> new ArrayList<>()).add(n);
        }
        Set<String> outputs = g.getOutputList().stream().map(OnnxMl.ValueInfoProto::getName).collect(Collectors.toSet());
        for (int i = 0; i < candidates.size(); i++) {
            OnnxCandidate c = candidates.get(i);
            if (!c.quantized() || !c.op().equals("Gather")) continue;
            if (outputs.contains(c.weight())) {
                candidates.set(i, c.leftFloat("the table is also a graph output, so its float values stay"));
                continue;
            }
            for (OnnxMl.NodeProto r : readers.getOrDefault(c.weight(), List.of())) {
                OnnxCandidate other = byNode.get(r);
                // Only as its weight: not also as another input (nor inside a subgraph: such nodes are no candidates).
                boolean asInt8Weight = other != null && other.quantized() && c.weight().equals(other.weight())
                        && r.getInputList().stream().filter(c.weight()::equals).count() == 1;
                if (!asInt8Weight) {
                    candidates.set(i, c.leftFloat("the table is also read by " + name(r) + " (" + r.getOpType()
                            + (other != null && !other.quantized() ? ", left float" : "") + "), so its float values "
                            + "stay: int8 codes would add to the file"));
                    break;
                }
            }
        }
    }

    /** Builds the new node list and the initializers it needs, with names no other tensor of the graph has. */
    private static final class Rewriter {
        final List<OnnxMl.NodeProto> nodes = new ArrayList<>();
        final List<OnnxMl.TensorProto> added = new ArrayList<>();
        private final Map<String, OnnxMl.TensorProto> init;
        private final Granularity granularity;
        private final Set<String> taken = new HashSet<>();
        /** Activation name to its DynamicQuantizeLinear outputs (codes, scale, zero point). */
        private final Map<String, String[]> quantizedActivations = new HashMap<>();
        /** Weight name to its quantized form, for weights several nodes share. */
        private final Map<String, QuantizedWeight> quantizedWeights = new HashMap<>();
        /** Table name to its codes and scales, for tables several Gathers share. */
        private final Map<String, QuantizedWeight> quantizedTables = new HashMap<>();

        Rewriter(OnnxMl.GraphProto g, Map<String, OnnxMl.TensorProto> init, Granularity granularity) {
            this.init = init;
            this.granularity = granularity;
            taken.addAll(OnnxGraph.namesInUse(g));
        }

        void matMul(OnnxMl.NodeProto n) {
            OnnxMl.TensorProto w = init.get(n.getInput(1));
            float[] b = floats(w);
            int k = (int) w.getDims(0);
            int cols = (int) w.getDims(1);
            QuantizedWeight q = quantizedWeights.computeIfAbsent(w.getName() + "|" + false,
                    key -> int8(w.getName(), b, k, cols, 1f));
            integerMatMul(n, q, n.getOutput(0));
        }

        void gemm(OnnxMl.NodeProto n) {
            OnnxMl.TensorProto w = init.get(n.getInput(1));
            boolean transB = intAttribute(n, "transB", 0) != 0;
            float alpha = floatAttribute(n, "alpha", 1f);
            float beta = floatAttribute(n, "beta", 1f);
            float[] b = floats(w);
            int rows = (int) w.getDims(0);
            int cols = (int) w.getDims(1);
            if (transB) b = transpose(b, rows, cols);
            int k = transB ? cols : rows;
            int outs = transB ? rows : cols;
            float[] kn = b;
            QuantizedWeight q = quantizedWeights.computeIfAbsent(w.getName() + "|" + transB + "|" + alpha,
                    key -> int8(w.getName(), kn, k, outs, alpha));
            boolean bias = n.getInputCount() > 2 && !n.getInput(2).isEmpty() && beta != 0f;
            if (!bias) {
                integerMatMul(n, q, n.getOutput(0));
                return;
            }
            String product = integerMatMul(n, q, fresh(n.getOutput(0) + "_unbiased"));
            String c = n.getInput(2);
            if (beta != 1f) {
                OnnxMl.TensorProto ct = init.get(c);
                if (ct != null && ct.getDataType() == FLOAT) {
                    float[] v = floats(ct);
                    for (int i = 0; i < v.length; i++) v[i] *= beta;
                    c = floatTensor(fresh(c + "_beta"), v, ct.getDimsList());
                } else {
                    String betaName = floatTensor(fresh(name(n) + "_beta"), new float[]{beta}, List.of());
                    c = node("Mul", List.of(c, betaName), fresh(c + "_beta"));
                }
            }
            node("Add", List.of(product, c), n.getOutput(0));
        }

        void conv(OnnxMl.NodeProto n) {
            OnnxMl.TensorProto w = init.get(n.getInput(1));
            float[] v = floats(w);
            int outs = (int) w.getDims(0);
            int per = v.length / outs;
            float[] scales = scales(v, outs, per, false);
            byte[] codes = new byte[v.length];
            for (int o = 0; o < outs; o++) {
                for (int i = 0; i < per; i++) codes[o * per + i] = (byte) (code(v[o * per + i], scales[o]) + 128);
            }
            String wq = tensor(fresh(w.getName() + "_quantized"), OnnxMl.TensorProto.DataType.UINT8, codes, w.getDimsList());
            String wzp = tensor(fresh(w.getName() + "_zero_point"), OnnxMl.TensorProto.DataType.UINT8, new byte[]{(byte) 128},
                    List.of());
            String[] x = activation(n.getInput(0));
            Map<String, OnnxMl.AttributeProto> attrs = new LinkedHashMap<>();
            for (OnnxMl.AttributeProto a : n.getAttributeList()) attrs.put(a.getName(), a);
            String acc = nodeWith("ConvInteger", List.of(x[0], wq, x[2], wzp), fresh(n.getOutput(0) + "_int32"),
                    new ArrayList<>(attrs.values()), name(n) + "_quant");
            String asFloat = cast(acc);
            // Scales broadcast over [N, M, spatial...]: shape [M, 1, ...].
            List<Long> perChannel = new ArrayList<>();
            perChannel.add((long) outs);
            for (int i = 2; i < w.getDimsCount(); i++) perChannel.add(1L);
            String ws = floatTensor(fresh(w.getName() + "_scale"), scales, perChannel);
            String scale = node("Mul", List.of(x[1], ws), fresh(name(n) + "_scales_mul"));
            boolean bias = n.getInputCount() > 2 && !n.getInput(2).isEmpty();
            String scaled = node("Mul", List.of(asFloat, scale), bias ? fresh(n.getOutput(0) + "_unbiased")
                    : n.getOutput(0));
            if (bias) {
                OnnxMl.TensorProto bt = init.get(n.getInput(2));
                String b = floatTensor(fresh(bt.getName() + "_channels"), floats(bt), perChannel);
                node("Add", List.of(scaled, b), n.getOutput(0));
            }
        }

        /**
         * Gather on the table's int8 codes, then to float: per row, Cast and Mul by the rows' scales gathered with the
         * same indices; per tensor, DequantizeLinear. The node's attributes (its axis) go to both Gathers.
         */
        void gather(OnnxMl.NodeProto n) {
            OnnxMl.TensorProto t = init.get(n.getInput(0));
            QuantizedWeight q = quantizedTables.computeIfAbsent(t.getName(), key -> int8Rows(t));
            String ids = n.getInput(1);
            String codes = nodeWith("Gather", List.of(q.codes, ids), fresh(n.getOutput(0) + "_quantized"),
                    n.getAttributeList(), name(n) + "_quant");
            if (granularity == Granularity.TENSOR) {
                nodeWith("DequantizeLinear", List.of(codes, q.scale, q.zeroPoint), n.getOutput(0), List.of(),
                        name(n) + "_dequantize");
                return;
            }
            String scales = nodeWith("Gather", List.of(q.scale, ids), fresh(n.getOutput(0) + "_scale"),
                    n.getAttributeList(), name(n) + "_scales");
            node("Mul", List.of(cast(codes), cast(scales)), n.getOutput(0));
        }

        /**
         * Symmetric int8 codes of a [rows, width] table: a scale per row, or one. Row scales are stored as float16
         * [rows, 1] (to be gathered and cast): half the bytes of float32 (61 KB for bge-small's 30,522 word pieces)
         * for a scale within 2^-10 of max |row| / 127; each is rounded up, so no code clips, and the codes are
         * computed with it.
         */
        private QuantizedWeight int8Rows(OnnxMl.TensorProto t) {
            float[] v = floats(t);
            int rows = (int) t.getDims(0);
            int width = (int) t.getDims(1);
            boolean perTensor = granularity == Granularity.TENSOR;
            float[] scales = scales(v, rows, width, perTensor);
            byte[] halves = new byte[perTensor ? 0 : rows * 2];
            for (int r = 0; r < halves.length / 2; r++) {
                short h = float16Up(scales[r]);
                halves[2 * r] = (byte) h;
                halves[2 * r + 1] = (byte) (h >> 8);
                scales[r] = float16ToFloat(h);
            }
            byte[] codes = new byte[v.length];
            for (int r = 0; r < rows; r++) {
                for (int i = 0; i < width; i++) codes[r * width + i] = (byte) code(v[r * width + i], scales[r]);
            }
            String codesName = tensor(fresh(t.getName() + "_quantized"), OnnxMl.TensorProto.DataType.INT8, codes,
                    t.getDimsList());
            if (!perTensor) {
                return new QuantizedWeight(codesName, null, tensor(fresh(t.getName() + "_scale"),
                        OnnxMl.TensorProto.DataType.FLOAT16, halves, List.of((long) rows, 1L)));
            }
            String zp = tensor(fresh(t.getName() + "_zero_point"), OnnxMl.TensorProto.DataType.INT8, new byte[]{0},
                    List.of());
            return new QuantizedWeight(codesName, zp, floatTensor(fresh(t.getName() + "_scale"),
                    new float[]{scales[0]}, List.of()));
        }

        /** MatMulInteger, Cast, and Mul by the scales' product, writing {@code output}. */
        private String integerMatMul(OnnxMl.NodeProto n, QuantizedWeight q, String output) {
            String[] a = activation(n.getInput(0));
            String acc = nodeWith("MatMulInteger", List.of(a[0], q.codes, a[2], q.zeroPoint),
                    fresh(n.getOutput(0) + "_output_quantized"), List.of(), name(n) + "_quant");
            String asFloat = cast(acc);
            String scale = node("Mul", List.of(a[1], q.scale), fresh(name(n) + "_quant_scales_mul"));
            return node("Mul", List.of(asFloat, scale), output);
        }

        private String cast(String int32) {
            OnnxMl.AttributeProto to = OnnxMl.AttributeProto.newBuilder().setName("to")
                    .setType(OnnxMl.AttributeProto.AttributeType.INT).setI(FLOAT).build();
            return nodeWith("Cast", List.of(int32), fresh(int32 + "_cast_output"), List.of(to), null);
        }

        /** The activation's DynamicQuantizeLinear outputs, added before their first use. */
        private String[] activation(String x) {
            return quantizedActivations.computeIfAbsent(x, name -> {
                String[] out = {fresh(name + "_quantized"), fresh(name + "_scale"), fresh(name + "_zero_point")};
                nodes.add(OnnxMl.NodeProto.newBuilder().setOpType("DynamicQuantizeLinear")
                        .setName(fresh(name + "_QuantizeLinear")).addInput(name).addOutput(out[0]).addOutput(out[1])
                        .addOutput(out[2]).build());
                return out;
            });
        }

        /** Symmetric int8 codes of a [K, N] weight, scale per column (or one), {@code alpha} folded into the scale. */
        private QuantizedWeight int8(String weight, float[] kn, int k, int cols, float alpha) {
            boolean perTensor = granularity == Granularity.TENSOR;
            // Per column: the scale of column j covers kn[i * cols + j] for every row i.
            float[] columnMajor = transpose(kn, k, cols);
            float[] scales = scales(columnMajor, cols, k, perTensor);
            byte[] codes = new byte[kn.length];
            for (int i = 0; i < k; i++) {
                for (int j = 0; j < cols; j++) codes[i * cols + j] = (byte) code(kn[i * cols + j], scales[j]);
            }
            String codesName = tensor(fresh(weight + "_quantized"), OnnxMl.TensorProto.DataType.INT8, codes,
                    List.of((long) k, (long) cols));
            String zp = tensor(fresh(weight + "_zero_point"), OnnxMl.TensorProto.DataType.INT8, new byte[]{0}, List.of());
            float[] written = perTensor ? new float[]{scales[0] * alpha} : new float[cols];
            if (!perTensor) for (int j = 0; j < cols; j++) written[j] = scales[j] * alpha;
            String scale = floatTensor(fresh(weight + "_scale"), written,
                    perTensor ? List.of() : List.of((long) cols));
            return new QuantizedWeight(codesName, zp, scale);
        }

        private String node(String op, List<String> inputs, String output) {
            return nodeWith(op, inputs, output, List.of(), null);
        }

        private String nodeWith(String op, List<String> inputs, String output, List<OnnxMl.AttributeProto> attributes,
                                String nodeName) {
            taken.add(output);
            nodes.add(OnnxMl.NodeProto.newBuilder().setOpType(op).setName(nodeName != null ? fresh(nodeName)
                    : fresh(output + "_node")).addAllInput(inputs).addOutput(output).addAllAttribute(attributes).build());
            return output;
        }

        private String floatTensor(String name, float[] values, List<Long> dims) {
            ByteBuffer buf = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(values);
            return tensor(name, OnnxMl.TensorProto.DataType.FLOAT, buf.array(), dims);
        }

        private String tensor(String name, OnnxMl.TensorProto.DataType type, byte[] raw, List<Long> dims) {
            added.add(OnnxMl.TensorProto.newBuilder().setName(name).setDataType(type.getNumber()).addAllDims(dims)
                    .setRawData(ByteString.copyFrom(raw)).build());
            return name;
        }

        /** {@code base}, or {@code base_2}, {@code base_3}... whichever no tensor or node of the graph has. */
        private String fresh(String base) {
            return OnnxGraph.unusedName(base, taken);
        }
    }

    private record QuantizedWeight(String codes, String zeroPoint, String scale) {
    }

    /** max|w| / 127 of each of {@code rows} rows of {@code per} values (one for all when {@code perTensor}). */
    static float[] scales(float[] rowMajor, int rows, int per, boolean perTensor) {
        float[] s = new float[rows];
        float all = 0;
        for (int r = 0; r < rows; r++) {
            float max = 0;
            for (int i = 0; i < per; i++) max = Math.max(max, Math.abs(rowMajor[r * per + i]));
            s[r] = max;
            all = Math.max(all, max);
        }
        for (int r = 0; r < rows; r++) {
            float max = perTensor ? all : s[r];
            s[r] = max == 0 ? 1f : max / 127f; // an all-zero channel: any scale gives codes 0
        }
        return s;
    }

    /** The smallest float16 (its bits) at least {@code x}, for a positive finite {@code x} below 65504. */
    static short float16Up(float x) {
        int bits = Float.floatToIntBits(x);
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        int mantissa = bits & 0x7fffff;
        int h;
        if (exp >= 1) {
            h = (exp << 10) | (mantissa >>> 13); // truncated: rounded down
        } else {
            // Subnormal: the value in units of 2^-24, truncated.
            h = exp < -10 ? 0 : (mantissa | 0x800000) >>> (14 - exp);
        }
        if (float16ToFloat((short) h) < x) h++; // positive halves grow with their bits
        return (short) h;
    }

    static float float16ToFloat(short h) {
        int exp = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        float magnitude = exp == 0 ? mantissa * 0x1p-24f : (1 + mantissa / 1024f) * (float) Math.pow(2, exp - 15);
        return (h & 0x8000) != 0 ? -magnitude : magnitude;
    }

    /** round(w / scale) half to even, clamped to [-127, 127]. */
    static int code(float w, float scale) {
        return (int) Math.max(-127, Math.min(127, Math.rint(w / scale)));
    }

    static float[] transpose(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j];
        return t;
    }

    /** A float32 initializer's values, from raw_data or float_data. */
    static float[] floats(OnnxMl.TensorProto t) {
        if (!t.getRawData().isEmpty()) {
            float[] v = new float[t.getRawData().size() / Float.BYTES];
            t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            return v;
        }
        float[] v = new float[t.getFloatDataCount()];
        for (int i = 0; i < v.length; i++) v[i] = t.getFloatData(i);
        return v;
    }

    /** The name of the input that holds a candidate's constant: a Gather's table (input 0), else the weight (1). */
    private static String weightInput(OnnxMl.NodeProto n) {
        return n.getOpType().equals("Gather") ? n.getInput(0) : n.getInput(1);
    }

    /** The names {@code n} reads: its inputs, and those of the nodes of its subgraphs (an If's branches, a Loop's body). */
    static Set<String> reads(OnnxMl.NodeProto n) {
        Set<String> out = new HashSet<>(n.getInputList());
        for (OnnxMl.AttributeProto a : n.getAttributeList()) {
            List<OnnxMl.GraphProto> graphs = new ArrayList<>(a.getGraphsList());
            if (a.hasG()) graphs.add(a.getG());
            for (OnnxMl.GraphProto sub : graphs) for (OnnxMl.NodeProto m : sub.getNodeList()) out.addAll(reads(m));
        }
        return out;
    }

    static String key(String node, String op, String weight) {
        return node + '\u0000' + op + '\u0000' + weight;
    }

    /** The node's name, or its first output's when it has none (names are optional in ONNX). */
    static String name(OnnxMl.NodeProto n) {
        return n.getName().isEmpty() ? n.getOutput(0) : n.getName();
    }

    static Map<String, OnnxMl.TensorProto> initializers(OnnxMl.GraphProto g) {
        Map<String, OnnxMl.TensorProto> m = new HashMap<>();
        for (OnnxMl.TensorProto t : g.getInitializerList()) m.put(t.getName(), t);
        return m;
    }

    static long defaultOpset(OnnxMl.ModelProto model) {
        for (OnnxMl.OperatorSetIdProto o : model.getOpsetImportList()) if (isDefaultDomain(o.getDomain())) return o.getVersion();
        return 0;
    }

    static boolean isDefaultDomain(String domain) {
        return domain.isEmpty() || domain.equals("ai.onnx");
    }

    static long intAttribute(OnnxMl.NodeProto n, String name, long fallback) {
        for (OnnxMl.AttributeProto a : n.getAttributeList()) if (a.getName().equals(name)) return a.getI();
        return fallback;
    }

    static float floatAttribute(OnnxMl.NodeProto n, String name, float fallback) {
        for (OnnxMl.AttributeProto a : n.getAttributeList()) if (a.getName().equals(name)) return a.getF();
        return fallback;
    }

    private static String abbreviated(List<String> items) {
        int shown = Math.min(items.size(), 8);
        String s = String.join(", ", items.subList(0, shown));
        return items.size() > shown ? s + " and " + (items.size() - shown) + " more" : s;
    }
}
