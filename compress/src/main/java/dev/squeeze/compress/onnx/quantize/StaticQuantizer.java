package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.onnx.OnnxGraph;
import dev.squeeze.compress.onnx.QdqNodes;
import dev.squeeze.compress.quant.Granularity;
import dev.squeeze.compress.quant.Int8Linear;
import dev.squeeze.compress.quant.QuantParams;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Static int8 quantization of an ONNX graph, in the QDQ form ONNX Runtime's Python {@code quantize_static} writes and
 * its graph optimizations fuse into integer kernels (QLinearMatMul, QLinearConv, QGemm; MatMulIntegerToFloat for a
 * MatMul that writes float). Activation ranges come from calibration ({@link ActivationStatistics}), so nothing is
 * measured at run time. For each int8 node ({@link DynamicQuantizer#plan} finds them, by {@link #PAYS}):
 * <ul>
 *   <li>the activation it reads: QuantizeLinear to uint8 (asymmetric, zero exactly representable:
 *   {@link ActivationQuant#fromRange}) and DequantizeLinear, written once per tensor and read only by int8 nodes, so
 *   float nodes reading the same tensor (a residual Add) keep it exact;</li>
 *   <li>its weight: symmetric int8 (zero point 0), one scale per output channel (Conv axis 0, MatMul [K, N] axis 1,
 *   Gemm axis 0 when transB is 1 else 1) or one per tensor, and DequantizeLinear; a Gemm's alpha is folded into the
 *   weight and its beta into C, both then written as 1;</li>
 *   <li>its bias (Conv B, Gemm C as a constant [N] vector): int32 at scale input scale × weight scale, zero point 0,
 *   which is how ONNX Runtime's QLinearConv and QGemm take it;</li>
 *   <li>the activation it writes: QuantizeLinear and DequantizeLinear under the calibrated range, read by every
 *   consumer. When the node's only consumer is a Relu, the Relu's output is the one quantized, so ONNX Runtime drops
 *   the Relu into the kernel (its range starts at 0). A MatMul or Gemm whose output is a graph output writes it in
 *   float (MatMulIntegerToFloat, QGemm without an output scale), as does one an Identity passes to a graph output:
 *   the model's answer is not rounded to 256 levels.
 *   QLinearConv always writes uint8.</li>
 * </ul>
 * Everything else is kept as it is, as are the graph's inputs and outputs. The opset is raised to {@value #MIN_OPSET}
 * when lower: per-channel DequantizeLinear ({@code axis}) needs it.
 *
 * <p>What pays ({@link #PAYS}) differs from dynamic mode: the activation is quantized with a range known beforehand, so
 * there is no per-call range search, and QLinearConv's kernels take a first convolution over 1 or 3 image channels
 * (which ConvInteger does slowly); see docs/quantization.md for what was measured.
 */
public final class StaticQuantizer {
    /** The lowest default-domain opset with per-channel DequantizeLinear. */
    public static final long MIN_OPSET = 13;
    /** Fewest weight elements for which a MatMul or Gemm is quantized (as dynamic mode). */
    public static final long MIN_MATMUL_WEIGHTS = DynamicQuantizer.MIN_MATMUL_WEIGHTS;
    /** Shortest per-output dot product for which a Conv is quantized: any; QLinearConv pays on a first image layer. */
    public static final long MIN_CONV_DOT = 1;
    /** Static mode's rule: see the class comment. */
    public static final DynamicQuantizer.PayRule PAYS = new DynamicQuantizer.PayRule(QuantParams.STATIC, "QLinearConv",
            MIN_MATMUL_WEIGHTS, MIN_CONV_DOT, false, true, MIN_OPSET, false);

    private StaticQuantizer() {
    }

    /**
     * The activation tensors of one int8 node.
     *
     * @param reads  the tensor it reads (input 0)
     * @param writes the tensor written as uint8 (its output, or its Relu's), or null when it writes float
     */
    record Activations(String reads, String writes) {
    }

    /** Operators whose output holds only values of their first input: its quantization carries over. */
    static final Set<String> RANGE_KEEPING = Set.of("MaxPool", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze",
            "Identity");

    /**
     * The activation tensors the plan's int8 nodes read and write: what calibration observes. (When written, a tensor an
     * int8 node reads through max pooling, a reshape or a transpose of another int8 node's output takes that output's
     * range instead of its own, {@link #RANGE_KEEPING}, so ONNX Runtime runs the operator on uint8 codes between the
     * kernels; its own is observed too, for a plan with that other node left float.)
     */
    public static Set<String> calibrationTensors(OnnxMl.ModelProto model, DynamicQuantizer.Plan plan) {
        Set<String> out = new LinkedHashSet<>();
        for (Activations a : activations(model.getGraph(), plan).values()) {
            out.add(a.reads());
            if (a.writes() != null) out.add(a.writes());
        }
        return out;
    }

    /**
     * Tensor to the written tensor whose range it takes: the output of a {@link #RANGE_KEEPING} chain that starts at a
     * tensor an int8 node writes.
     */
    private static Map<String, String> rangeSources(OnnxMl.GraphProto g, Map<String, Activations> activations) {
        Map<String, String> source = new HashMap<>();
        for (Activations a : activations.values()) if (a.writes() != null) source.put(a.writes(), a.writes());
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            if (!RANGE_KEEPING.contains(n.getOpType()) || !DynamicQuantizer.isDefaultDomain(n.getDomain())
                    || n.getInputCount() == 0 || n.getOutputCount() != 1) continue;
            String from = source.get(n.getInput(0));
            if (from != null) source.put(n.getOutput(0), from);
        }
        source.keySet().removeIf(t -> source.get(t).equals(t));
        return source;
    }

    /**
     * Rewrites the candidates {@code plan} marks quantized into QDQ form.
     *
     * @param ranges the uint8 quantization of every tensor {@link #calibrationTensors} names (more are ignored)
     * @throws IllegalStateException when a tensor the plan quantizes has no range
     */
    public static OnnxMl.ModelProto quantize(OnnxMl.ModelProto model, DynamicQuantizer.Plan plan,
                                             Granularity granularity, Map<String, ActivationQuant> ranges) {
        OnnxMl.GraphProto g = model.getGraph();
        Map<String, Activations> activations = activations(g, plan);
        Set<String> written = new HashSet<>();
        for (Activations a : activations.values()) if (a.writes() != null) written.add(a.writes());
        Map<String, ActivationQuant> all = new HashMap<>(ranges);
        rangeSources(g, activations).forEach((t, from) -> {
            if (ranges.containsKey(from)) all.put(t, ranges.get(from));
        });
        Rewriter w = new Rewriter(g, granularity, all, written);
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            Activations a = n.getInputCount() < 2 ? null
                    : activations.get(DynamicQuantizer.key(DynamicQuantizer.name(n), n.getOpType(), n.getInput(1)));
            if (a == null) {
                w.copy(n);
            } else {
                w.quantized(n, a);
            }
        }
        return DynamicQuantizer.rewritten(model, w.graph.nodes(), w.graph.initializers(), plan.opsetAfter());
    }

    /** Each int8 node's activations, by its candidate key, in node order. */
    private static Map<String, Activations> activations(OnnxMl.GraphProto g, DynamicQuantizer.Plan plan) {
        Set<String> chosen = new HashSet<>();
        for (OnnxCandidate c : plan.candidates()) {
            if (c.quantized()) chosen.add(DynamicQuantizer.key(c.node(), c.op(), c.weight()));
        }
        Map<String, List<OnnxMl.NodeProto>> consumers = new HashMap<>();
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            for (String in : n.getInputList()) consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        }
        // Graph outputs, and what an Identity passes on to one (a builder naming the output): the model's answer.
        Set<String> outputs = new HashSet<>();
        g.getOutputList().forEach(v -> outputs.add(v.getName()));
        for (int i = g.getNodeCount() - 1; i >= 0; i--) {
            OnnxMl.NodeProto n = g.getNode(i);
            if (n.getOpType().equals("Identity") && outputs.contains(n.getOutput(0))) outputs.add(n.getInput(0));
        }
        Map<String, Activations> out = new LinkedHashMap<>();
        for (OnnxMl.NodeProto n : g.getNodeList()) {
            if (n.getInputCount() < 2) continue;
            String key = DynamicQuantizer.key(DynamicQuantizer.name(n), n.getOpType(), n.getInput(1));
            if (!chosen.contains(key)) continue;
            String writes = n.getOutput(0);
            List<OnnxMl.NodeProto> readers = consumers.getOrDefault(writes, List.of());
            if (!outputs.contains(writes) && readers.size() == 1 && readers.get(0).getOpType().equals("Relu")
                    && DynamicQuantizer.isDefaultDomain(readers.get(0).getDomain())) {
                writes = readers.get(0).getOutput(0);
            }
            if (outputs.contains(writes) && !n.getOpType().equals("Conv")) writes = null;
            out.put(key, new Activations(n.getInput(0), writes));
        }
        return out;
    }

    /** Writes the new node list into an {@link OnnxGraph} that keeps clear of the source graph's names. */
    private static final class Rewriter {
        final OnnxGraph graph;
        private final Map<String, OnnxMl.TensorProto> init;
        private final Granularity granularity;
        private final Map<String, ActivationQuant> ranges;
        /** Tensors quantized where they are produced: every consumer reads the dequantized value. */
        private final Set<String> written;
        /** Tensor name to the name int8 nodes read it by: its DequantizeLinear output. */
        private final Map<String, String> dequantized = new HashMap<>();
        /** Weight (name, axis, alpha) to its DequantizeLinear output and scales, for weights several nodes share. */
        private final Map<String, QdqNodes.Int8Weight> weights = new HashMap<>();

        Rewriter(OnnxMl.GraphProto g, Granularity granularity, Map<String, ActivationQuant> ranges, Set<String> written) {
            this.init = DynamicQuantizer.initializers(g);
            this.granularity = granularity;
            this.ranges = ranges;
            this.written = written;
            graph = new OnnxGraph(g.getName()).reserve(OnnxGraph.namesInUse(g));
        }

        /** A node kept float; an output another node's int8 kernel writes through it (its Relu) is quantized after. */
        void copy(OnnxMl.NodeProto n) {
            emit(n.toBuilder());
        }

        void quantized(OnnxMl.NodeProto n, Activations a) {
            OnnxMl.NodeProto.Builder b = n.toBuilder();
            ActivationQuant input = range(a.reads());
            b.setInput(0, read(a.reads(), input));
            OnnxMl.TensorProto w = init.get(n.getInput(1));
            boolean gemm = n.getOpType().equals("Gemm");
            int axis = switch (n.getOpType()) {
                case "Conv" -> 0;
                case "Gemm" -> DynamicQuantizer.intAttribute(n, "transB", 0) != 0 ? 0 : 1;
                default -> 1;
            };
            float alpha = gemm ? DynamicQuantizer.floatAttribute(n, "alpha", 1f) : 1f;
            QdqNodes.Int8Weight q = weights.computeIfAbsent(w.getName() + "|" + axis + "|" + alpha,
                    k -> int8(w, axis, alpha));
            b.setInput(1, q.dequantized());
            if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
                float[] bias = DynamicQuantizer.floats(init.get(n.getInput(2)));
                float beta = gemm ? DynamicQuantizer.floatAttribute(n, "beta", 1f) : 1f;
                for (int i = 0; i < bias.length; i++) bias[i] *= beta;
                b.setInput(2, QdqNodes.int32Bias(graph, Int8Linear.biasCodes(bias, input.scale(), q.scales()),
                        input.scale(), q));
            }
            if (gemm) {
                // alpha is in the weight's scales and beta in the bias; ONNX Runtime's QGemm fusion wants beta 1.
                List<OnnxMl.AttributeProto> kept = new ArrayList<>();
                for (OnnxMl.AttributeProto at : n.getAttributeList()) {
                    if (!at.getName().equals("alpha") && !at.getName().equals("beta")) kept.add(at);
                }
                b.clearAttribute().addAllAttribute(kept).addAttribute(one("alpha")).addAttribute(one("beta"));
            }
            emit(b);
        }

        /** Adds the node, its outputs that are quantized where produced renamed and followed by their QDQ pair. */
        private void emit(OnnxMl.NodeProto.Builder b) {
            List<String[]> pairs = new ArrayList<>();
            for (int i = 0; i < b.getOutputCount(); i++) {
                String out = b.getOutput(i);
                if (!written.contains(out)) continue;
                String raw = graph.fresh(out + "_float");
                b.setOutput(i, raw);
                pairs.add(new String[]{raw, out});
            }
            graph.add(b.build());
            for (String[] p : pairs) {
                ActivationQuant q = range(p[1]);
                QdqNodes.dequantize(graph, QdqNodes.quantize(graph, p[0], q), q, p[1]);
                dequantized.put(p[1], p[1]);
            }
        }

        /** The name int8 nodes read {@code x} by: its QDQ pair, added before its first such reader. */
        private String read(String x, ActivationQuant q) {
            return dequantized.computeIfAbsent(x, name -> QdqNodes.dequantize(graph, QdqNodes.quantize(graph, name, q), q));
        }

        private ActivationQuant range(String tensor) {
            ActivationQuant q = ranges.get(tensor);
            if (q == null) throw new IllegalStateException("no calibrated range for tensor '" + tensor + "'");
            return q;
        }

        /** Symmetric int8 codes of {@code w} × {@code alpha}, a scale per slice along {@code axis} (or one). */
        private QdqNodes.Int8Weight int8(OnnxMl.TensorProto w, int axis, float alpha) {
            float[] v = DynamicQuantizer.floats(w);
            if (alpha != 1f) for (int i = 0; i < v.length; i++) v[i] *= alpha;
            long[] shape = w.getDimsList().stream().mapToLong(Long::longValue).toArray();
            int channels = (int) shape[axis];
            int per = v.length / channels;
            // Channel c's values, contiguous: rows of [C, ...] as they are, columns of a [K, N] matrix transposed.
            float[] byChannel = axis == 0 ? v : DynamicQuantizer.transpose(v, per, channels);
            boolean perTensor = granularity == Granularity.TENSOR;
            float[] scales = DynamicQuantizer.scales(byChannel, channels, per, perTensor);
            byte[] codes = new byte[v.length];
            for (int i = 0; i < v.length; i++) {
                int c = axis == 0 ? i / per : i % channels;
                codes[i] = (byte) DynamicQuantizer.code(v[i], scales[c]);
            }
            float[] written = perTensor ? new float[]{scales[0]} : scales;
            return QdqNodes.int8Weight(graph, codes, shape, written, axis, true);
        }

        private static OnnxMl.AttributeProto one(String name) {
            return OnnxMl.AttributeProto.newBuilder().setName(name).setType(OnnxMl.AttributeProto.AttributeType.FLOAT)
                    .setF(1f).build();
        }
    }

}
