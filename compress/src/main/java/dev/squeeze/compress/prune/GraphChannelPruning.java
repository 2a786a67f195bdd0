package dev.squeeze.compress.prune;

import dev.squeeze.core.BadInputException;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Structured channel pruning of a DL4J {@code ComputationGraph} such as a residual network: removes whole output
 * channels of its convolutions and builds a physically smaller graph, as {@link StructuredPruning} does for a layer
 * stack.
 *
 * <p>In a graph, channels are tied: a residual block adds its last batch norm's output to its input (the previous
 * block's output, or a 1x1 projection of it), so channel j of every convolution whose output reaches that Add is one
 * and the same channel j of the sum. Such channels can only go together. {@link #select} therefore groups the
 * convolutions first (union-find over the graph: a convolution starts a group, a batch norm and the per-channel layers
 * after it carry the group, an element-wise vertex joins the groups of its inputs, an identity shortcut carrying the
 * previous block's group into the Add), then drops the weakest channels of each group. A channel's strength is
 * summed over the group's convolutions: |gamma| of the batch norm that is a convolution's only reader (a batch norm
 * rescales its input, so the filter's own size says nothing after it), otherwise the L2 norm of the filter.
 *
 * <p>{@link #apply} then narrows every convolution of a pruned group (W rows, b), every batch norm on its channels
 * (gamma, beta, mean, variance), and every reader of those channels (the input channels of the next convolutions, the
 * inputs of a dense or output layer after global pooling or flattening), and copies the kept parameters. Without
 * dropout, the smaller graph computes exactly what the source computes with the dropped channels' contributions
 * removed (their batch norms' gamma and beta zero, or for a convolution with no batch norm after it its filter and
 * bias zero) whenever the activations map 0 to 0 (ReLU, identity).
 *
 * <p>Supported vertices: the network input; convolutions (DL4J's 2D {@code ConvolutionLayer} and
 * {@code NativeConvolution}); batch norms; parameter-free layers that keep channels apart (pooling, global pooling,
 * activation, dropout, zero padding); element-wise vertices (Add, and the other operations, which all keep channel j
 * in place); dense and output layers, which lose inputs but are never narrowed themselves. A group whose channels
 * reach the graph's output, or are added to the network input, keeps all its channels. Any other vertex reading a
 * convolution's channels (a merge/concatenation, a depthwise or separable convolution, a subset) is refused up front,
 * naming it, rather than guessed at.
 */
public final class GraphChannelPruning {

    private GraphChannelPruning() {
    }

    /** What a vertex does with the channels on its input. */
    private enum Role {
        /** The network input: channels that are never pruned. */
        INPUT,
        /** A convolution: reads channels, starts its own. */
        CONV,
        /** A batch norm: one gamma, beta, mean and variance per channel, cut with the channels. */
        BATCH_NORM,
        /** No parameters; channel j in, channel j out. */
        PASS_THROUGH,
        /** An element-wise vertex: ties the channels of its inputs. */
        ELEMENT_WISE,
        /** A dense or output layer: reads channels (after global pooling or flattening), its units are its own. */
        DENSE,
        /** Anything else: allowed only where it reads no convolution's channels. */
        OTHER
    }

    private static Role roleOf(GraphVertex vertex) {
        if (vertex instanceof ElementWiseVertex) return Role.ELEMENT_WISE;
        if (!(vertex instanceof LayerVertex lv)) return Role.OTHER;
        Layer layer = lv.getLayerConf().getLayer();
        if (layer instanceof BatchNormalization) return Role.BATCH_NORM;
        return switch (StructuredPruning.kindOf(layer)) {
            case CONV -> Role.CONV;
            case DENSE -> Role.DENSE;
            case PASS_THROUGH -> Role.PASS_THROUGH;
            case OTHER -> Role.OTHER;
        };
    }

    /**
     * The graph read once: in computing order, which group of channels each vertex outputs, and which groups must be
     * kept whole.
     */
    private static final class Analysis {
        final ComputationGraphConfiguration conf;
        /** Vertex names in the order the graph computes them, the network input first. */
        final List<String> order = new ArrayList<>();
        /** Vertex name to the convolution whose group of channels its output carries; absent = no convolution's. */
        final Map<String, String> carries = new HashMap<>();
        /** Union-find over convolution names. */
        final Map<String, String> parent = new LinkedHashMap<>();
        /** Convolutions whose group keeps all its channels. */
        final Set<String> pinned = new HashSet<>();
        /** Vertex name to the vertices reading its output. */
        final Map<String, List<String>> readers = new HashMap<>();

        Analysis(ComputationGraph graph) {
            conf = graph.getConfiguration();
            var vertices = graph.getVertices();
            for (int i : graph.topologicalSortOrder()) order.add(vertices[i].getVertexName());
            conf.getVertexInputs().forEach((v, inputs) -> {
                for (String in : inputs) readers.computeIfAbsent(in, k -> new ArrayList<>()).add(v);
            });
            for (String name : order) read(name);
            for (String out : conf.getNetworkOutputs()) {
                String group = carries.get(out);
                if (group != null) pinned.add(group);   // the graph's outputs keep their width
            }
        }

        Role role(String name) {
            return conf.getNetworkInputs().contains(name) ? Role.INPUT : roleOf(conf.getVertices().get(name));
        }

        List<String> inputs(String name) {
            return conf.getVertexInputs().getOrDefault(name, List.of());
        }

        /** The group carried into {@code name} by its (single) input, or null. */
        String groupIn(String name) {
            List<String> inputs = inputs(name);
            return inputs.size() == 1 && carries.containsKey(inputs.get(0)) ? root(carries.get(inputs.get(0))) : null;
        }

        private void read(String name) {
            Role role = role(name);
            if (role == Role.INPUT) return;
            GraphVertex vertex = conf.getVertices().get(name);
            boolean readsChannels = inputs(name).stream().anyMatch(carries::containsKey);
            InputPreProcessor pre = vertex instanceof LayerVertex lv ? lv.getPreProcessor() : null;
            if (readsChannels && pre != null && !(role == Role.DENSE && pre instanceof CnnToFeedForwardPreProcessor)) {
                throw refusal(name, vertex, "its input preprocessor " + pre.getClass().getSimpleName()
                        + " would rearrange the pruned channels");
            }
            switch (role) {
                case CONV -> {
                    parent.put(name, name);
                    carries.put(name, name);
                }
                case BATCH_NORM, PASS_THROUGH -> {
                    if (readsChannels) carries.put(name, carries.get(inputs(name).get(0)));
                }
                case ELEMENT_WISE -> {
                    if (!readsChannels) return;
                    String first = null;
                    boolean withUnprunable = false;
                    for (String in : inputs(name)) {
                        String group = carries.get(in);
                        if (group == null) {
                            withUnprunable = true;
                        } else if (first == null) {
                            first = group;
                        } else {
                            union(first, group);
                        }
                    }
                    if (withUnprunable) pinned.add(first);   // added to channels no convolution made: keep them all
                    carries.put(name, first);
                }
                case DENSE -> {
                    // Its units are not channels; they are never pruned here.
                }
                case INPUT, OTHER -> {
                    if (readsChannels) {
                        throw refusal(name, vertex, "structured channel pruning cannot narrow its inputs");
                    }
                }
            }
        }

        String root(String conv) {
            String r = conv;
            while (!parent.get(r).equals(r)) r = parent.get(r);
            return r;
        }

        void union(String a, String b) {
            String ra = root(a);
            String rb = root(b);
            if (ra.equals(rb)) return;
            // The root is the group's first convolution in computing order.
            if (order.indexOf(ra) < order.indexOf(rb)) parent.put(rb, ra);
            else parent.put(ra, rb);
        }

        boolean isPinned(String root) {
            return pinned.stream().anyMatch(p -> root(p).equals(root));
        }

        /** The groups: each root's convolutions in computing order, the groups ordered by their root. */
        Map<String, List<String>> groups() {
            Map<String, List<String>> groups = new LinkedHashMap<>();
            for (String name : order) {
                if (parent.containsKey(name)) groups.computeIfAbsent(root(name), k -> new ArrayList<>()).add(name);
            }
            return groups;
        }

        long width(String conv) {
            return ((FeedForwardLayer) layer(conv)).getNOut();
        }

        Layer layer(String name) {
            return ((LayerVertex) conf.getVertices().get(name)).getLayerConf().getLayer();
        }
    }

    private static BadInputException refusal(String name, GraphVertex vertex, String why) {
        String type = vertex instanceof LayerVertex lv ? lv.getLayerConf().getLayer().getClass().getSimpleName()
                : vertex.getClass().getSimpleName();
        return new BadInputException("vertex '" + name + "' (" + type + ") reads the output channels of a convolution, and "
                + why + "; structured channel pruning of graphs follows convolutions, batch norms, pooling and activation "
                + "layers, element-wise vertices (residual Adds) and dense layers. Prune this graph unstructured "
                + "(--structure none) instead");
    }

    /**
     * Chooses what to keep in {@code trained}: in each group of tied convolutions that may be pruned, the
     * {@code round(fraction x width)} channels with the smallest summed strength (see the class comment) are dropped,
     * keeping at least one; ties drop the higher index.
     *
     * @param fraction share of each group's channels to drop, in [0, 1]
     * @throws BadInputException when the fraction is out of range, the graph has no convolution, or a vertex that
     *                           reads a convolution's channels is one this class cannot narrow
     */
    public static GraphChannelSelection select(ComputationGraph trained, double fraction) {
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new BadInputException("the structured pruning fraction must lie in [0, 1], got " + fraction);
        }
        Analysis graph = new Analysis(trained);
        Map<String, List<String>> groups = graph.groups();
        if (groups.isEmpty()) {
            throw new BadInputException("the graph has no convolution layer to prune channels of; prune it unstructured "
                    + "(--structure none)");
        }
        List<GraphChannelSelection.ChannelGroup> out = new ArrayList<>();
        for (var e : groups.entrySet()) {
            int width = checkedWidth(graph, e.getValue());
            double[] strength = new double[width];
            for (String conv : e.getValue()) {
                double[] s = channelStrength(trained, graph, conv);
                for (int j = 0; j < width; j++) strength[j] += s[j];
            }
            int[] kept = graph.isPinned(e.getKey()) ? IntStream.range(0, width).toArray()
                    : StructuredPruning.strongest(strength, Math.max(1, width - (int) Math.round(fraction * width)));
            out.add(new GraphChannelSelection.ChannelGroup(e.getValue(), width, kept));
        }
        return new GraphChannelSelection(fraction, out);
    }

    /** The convolutions' common output width; tied channels that differ in number mean the graph is not what it seems. */
    private static int checkedWidth(Analysis graph, List<String> convs) {
        long width = graph.width(convs.get(0));
        for (String conv : convs) {
            if (graph.width(conv) != width) {
                throw new IllegalStateException("convolutions " + convs + " meet in an element-wise vertex with "
                        + "different channel counts (" + conv + ": " + graph.width(conv) + ", " + convs.get(0) + ": "
                        + width + ")");
            }
        }
        return Math.toIntExact(width);
    }

    /**
     * Per output channel of {@code conv}: |gamma| of the batch norm that is its only reader, or else the L2 norm of
     * the filter.
     */
    private static double[] channelStrength(ComputationGraph net, Analysis graph, String conv) {
        List<String> readers = graph.readers.getOrDefault(conv, List.of());
        if (readers.size() == 1 && graph.role(readers.get(0)) == Role.BATCH_NORM) {
            INDArray gamma = net.getLayer(readers.get(0)).paramTable().get("gamma");
            if (gamma != null) return org.nd4j.linalg.ops.transforms.Transforms.abs(gamma, true).toDoubleVector();
        }
        return net.getLayer(conv).getParam("W").norm2(1, 2, 3).toDoubleVector();
    }

    /**
     * A new, smaller graph: {@code source}'s configuration (vertices, activations, initialisers, updater, seed) with
     * each pruned group's convolutions narrowed to their kept channels, the batch norms on those channels narrowed with
     * them, every reader of them reading only the kept ones, and the kept parameters copied from {@code source}. Works
     * on a trained graph and on a rewound (initial) one alike; {@code source} is not changed. The result starts with a
     * fresh optimizer (zero updater state, iteration and epoch 0), as {@link StructuredPruning#apply} explains.
     *
     * @param keep a selection made on a graph of the same architecture
     * @throws IllegalArgumentException when {@code keep} does not fit {@code source}
     * @throws BadInputException        when a vertex reading a convolution's channels is one this class cannot narrow
     */
    public static ComputationGraph apply(ComputationGraph source, GraphChannelSelection keep) {
        Analysis graph = new Analysis(source);
        Map<String, List<String>> groups = graph.groups();
        for (var e : groups.entrySet()) {
            GraphChannelSelection.ChannelGroup selected = keep.group(e.getKey());
            if (selected == null || !selected.convolutions().equals(e.getValue())
                    || selected.width() != checkedWidth(graph, e.getValue())) {
                throw new IllegalArgumentException("the selection does not fit this graph: its convolutions "
                        + e.getValue() + " (" + graph.width(e.getKey()) + " channels) are "
                        + (selected == null ? "not in it" : "selected as " + selected.describe()));
            }
        }
        if (keep.groups().size() != groups.size()) {
            throw new IllegalArgumentException("the selection does not fit this graph: it has " + keep.groups().size()
                    + " channel groups, the graph " + groups.size());
        }

        ComputationGraphConfiguration conf = source.getConfiguration().clone();   // deep: vertices and preprocessors
        conf.setIterationCount(0);
        conf.setEpochCount(0);
        Map<String, int[]> inputs = new HashMap<>();    // per layer vertex: source indices of the inputs kept
        Map<String, int[]> outputs = new HashMap<>();   // per layer vertex: source indices of the outputs kept
        for (String name : graph.order) {
            if (!(conf.getVertices().get(name) instanceof LayerVertex lv)) continue;
            Layer layer = lv.getLayerConf().getLayer();
            String group = graph.groupIn(name);
            int[] in = group == null || !keep.group(group).pruned() ? null : keep.group(group).kept();
            switch (graph.role(name)) {
                case CONV -> {
                    GraphChannelSelection.ChannelGroup own = keep.group(name);
                    int[] out = own.pruned() ? own.kept() : null;
                    FeedForwardLayer conv = (FeedForwardLayer) layer;
                    if (in != null) conv.setNIn(in.length);
                    if (out != null) conv.setNOut(out.length);
                    inputs.put(name, in);
                    outputs.put(name, out);
                }
                case BATCH_NORM -> {
                    if (in != null) {
                        ((FeedForwardLayer) layer).setNIn(in.length);
                        ((FeedForwardLayer) layer).setNOut(in.length);
                    }
                    inputs.put(name, in);
                    outputs.put(name, in);
                }
                case DENSE -> {
                    if (in != null && lv.getPreProcessor() != null) {
                        in = StructuredPruning.throughPreprocessor(lv.getPreProcessor(), in, "vertex '" + name + "'");
                    }
                    if (in != null) ((FeedForwardLayer) layer).setNIn(in.length);
                    inputs.put(name, in);
                    outputs.put(name, null);
                }
                default -> {
                }
            }
        }
        ComputationGraph target = new ComputationGraph(conf);
        target.init();
        for (String name : graph.order) {
            if (!(conf.getVertices().get(name) instanceof LayerVertex)) continue;
            copyParams(source, target, name, graph.role(name), inputs.get(name), outputs.get(name));
        }
        return target;
    }

    /** Copies vertex {@code name}'s parameters, keeping only the listed inputs and outputs (null = all). */
    private static void copyParams(ComputationGraph source, ComputationGraph target, String name, Role role,
                                   int[] inputs, int[] outputs) {
        Map<String, INDArray> params = source.getLayer(name).paramTable();
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray value = e.getValue();
            if (role == Role.BATCH_NORM) {
                value = StructuredPruning.take(value, value.rank() - 1, outputs);   // gamma, beta, mean, var: per channel
            } else if (e.getKey().equals("W") && role == Role.CONV) {
                value = StructuredPruning.take(StructuredPruning.take(value, 0, outputs), 1, inputs);   // [out, in, kH, kW]
            } else if (e.getKey().equals("W") && role == Role.DENSE) {
                value = StructuredPruning.take(value, 0, inputs);                   // [nIn, nOut]
            } else if (e.getKey().equals("b") && role == Role.CONV) {
                value = StructuredPruning.take(value, value.rank() - 1, outputs);
            }
            INDArray into = target.getLayer(name).getParam(e.getKey());
            if (!Arrays.equals(into.shape(), value.shape())) {
                throw new IllegalStateException(String.format(Locale.ROOT, "vertex '%s' parameter %s: built %s, cut %s",
                        name, e.getKey(), Arrays.toString(into.shape()), Arrays.toString(value.shape())));
            }
            into.assign(value);
        }
    }
}
