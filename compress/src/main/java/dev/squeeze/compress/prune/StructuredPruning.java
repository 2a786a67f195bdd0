package dev.squeeze.compress.prune;

import dev.squeeze.core.BadInputException;
import dev.squeeze.models.zoo.Network;
import dev.squeeze.models.zoo.layers.NativeConvolution;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Structured pruning: removes whole hidden neurons ({@link Structure#NEURONS}) or convolution filters
 * ({@link Structure#CHANNELS}) with the smallest L2 norm, together with the matching inputs of the layer
 * after, and builds a physically smaller network: fewer parameters, a smaller file and less work per
 * example, which zeros left in dense matrices (unstructured pruning) give none of.
 *
 * <p>Two steps, so a lottery-ticket loop can choose on the trained network and cut the rewound one:
 * {@link #select} ranks units on one network, {@link #apply} cuts any network of the same architecture.
 *
 * <p>Supported layers: {@link DenseLayer} and {@link OutputLayer} (weights {@code W [nIn, nOut]}), DL4J's
 * 2D {@link ConvolutionLayer} and {@link NativeConvolution} ({@code W [out, in, kH, kW]}), each with an
 * optional bias {@code b}; between them, parameter-free layers that keep channels apart (pooling, global
 * pooling, activation, dropout, zero padding) and the conv-to-dense flattening preprocessor. The last layer
 * is never pruned (its width is the number of classes). Other layers may appear where nothing before them
 * was pruned; anywhere else {@link #apply} refuses them rather than guess how their inputs are laid out.
 */
public final class StructuredPruning {

    private StructuredPruning() {
    }

    /** How a layer's parameters are laid out, which decides how its units can be cut. */
    enum Kind {
        /** {@code W [nIn, nOut]}: a unit is a column, an input a row. */
        DENSE,
        /** {@code W [out, in, kH, kW]}: a filter is a slice along dimension 0, an input channel along dimension 1. */
        CONV,
        /** No parameters; unit (or channel) j of its input is unit j of its output. */
        PASS_THROUGH,
        /** Anything else: copied unchanged, and only where nothing before it was pruned. */
        OTHER
    }

    static Kind kindOf(Layer layer) {
        if (layer instanceof DenseLayer || layer.getClass() == OutputLayer.class) return Kind.DENSE;
        // Subclasses of ConvolutionLayer such as Deconvolution2D or DepthwiseConvolution2D lay W out differently.
        if (layer.getClass() == ConvolutionLayer.class || layer instanceof NativeConvolution) return Kind.CONV;
        if (layer instanceof SubsamplingLayer || layer instanceof GlobalPoolingLayer || layer instanceof ActivationLayer
                || layer instanceof DropoutLayer || layer instanceof ZeroPaddingLayer) {
            return Kind.PASS_THROUGH;
        }
        return Kind.OTHER;
    }

    /**
     * Chooses what to keep in {@code trained}: in each pruned layer the {@code round(fraction x width)} units
     * (or filters) with the smallest L2 norm of their incoming weights (a column of a dense W, a whole filter
     * of a convolution W) are dropped, keeping at least one; ties drop the higher index. NEURONS prunes every
     * hidden {@link DenseLayer}, CHANNELS every convolution layer; never the last layer.
     *
     * @param fraction share of each pruned layer to drop, in [0, 1]
     * @throws BadInputException when the fraction is out of range or the network has no layer of that structure
     */
    public static StructuredSelection select(MultiLayerNetwork trained, double fraction, Structure structure) {
        if (!structure.structured()) throw new IllegalArgumentException("unstructured pruning selects no neurons or channels");
        if (!(fraction >= 0 && fraction <= 1)) {
            throw new BadInputException("the structured pruning fraction must lie in [0, 1], got " + fraction);
        }
        int n = trained.getnLayers();
        List<StructuredSelection.LayerKeep> layers = new ArrayList<>();
        int inputWidth = -1;
        boolean anyPrunable = false;
        for (int i = 0; i < n; i++) {
            Layer conf = layerConf(trained.getLayerWiseConfigurations(), i);
            Kind kind = kindOf(conf);
            if (kind != Kind.DENSE && kind != Kind.CONV) continue;
            FeedForwardLayer ff = (FeedForwardLayer) conf;
            if (inputWidth < 0) inputWidth = Math.toIntExact(ff.getNIn());
            int width = Math.toIntExact(ff.getNOut());
            boolean prune = i < n - 1 && (structure == Structure.NEURONS ? conf instanceof DenseLayer : kind == Kind.CONV);
            anyPrunable |= prune;
            int[] kept = prune
                    ? strongest(unitNorms(trained, i, kind), Math.max(1, width - (int) Math.round(fraction * width)))
                    : IntStream.range(0, width).toArray();
            layers.add(new StructuredSelection.LayerKeep(i, width, kept));
        }
        if (!anyPrunable) {
            throw new BadInputException("the network has no " + (structure == Structure.NEURONS
                    ? "hidden dense layer to prune neurons of" : "convolution layer to prune channels of")
                    + "; try --structure " + (structure == Structure.NEURONS ? Structure.CHANNELS : Structure.NEURONS).cliName());
        }
        return new StructuredSelection(structure, fraction, inputWidth, layers);
    }

    /**
     * A network cut by structured pruning.
     *
     * @param network the smaller network
     * @param kept    what it keeps, for messages: layer widths ({@code 784-240-80-10}) for a layer stack, each channel
     *                group's channels kept of its width ({@code stem+s1_conv2 2/4, ...}) for a graph
     */
    public record Cut(Network network, String kept) {
    }

    /**
     * Chooses on {@code trained} and cuts {@code start} the same way (the lottery-ticket step: survivors chosen on the
     * trained network, taken from the rewound one): {@link #select} and {@link #apply} for a layer stack,
     * {@link GraphChannelPruning} for a graph, whose channels tied by residual Adds go together. Both networks must have
     * the same architecture.
     *
     * @throws BadInputException when the network has nothing of that structure to prune, or is a graph and the
     *                           structure is neurons (only channels are built for graphs)
     */
    public static Cut cut(Network trained, Network start, double fraction, Structure structure) {
        if (trained.isGraph() != start.isGraph()) {
            throw new IllegalArgumentException("cannot cut a " + start.kind() + " by a " + trained.kind());
        }
        if (trained instanceof Network.Graph g) {
            if (structure != Structure.CHANNELS) {
                throw new BadInputException("structured pruning of a graph removes channels of its convolutions; "
                        + "--structure " + structure.cliName() + " is built for layer stacks only: use --structure "
                        + Structure.CHANNELS.cliName() + " or prune single weights (--structure none)");
            }
            GraphChannelSelection keep = GraphChannelPruning.select(g.graph(), fraction);
            return new Cut(Network.of(GraphChannelPruning.apply(((Network.Graph) start).graph(), keep)), keep.describe());
        }
        StructuredSelection keep = select(((Network.Stack) trained).net(), fraction, structure);
        return new Cut(Network.of(apply(((Network.Stack) start).net(), keep)), keep.describe());
    }

    /** L2 norm of each unit's incoming weights: dense W columns, or whole convolution filters. */
    private static double[] unitNorms(MultiLayerNetwork net, int layer, Kind kind) {
        INDArray w = net.getLayer(layer).getParam("W");
        return (kind == Kind.DENSE ? w.norm2(0) : w.norm2(1, 2, 3)).toDoubleVector();
    }

    /** The indices of the {@code count} largest values, ascending; among equal values the lower index wins. */
    static int[] strongest(double[] norms, int count) {
        return IntStream.range(0, norms.length).boxed()
                .sorted(Comparator.comparingDouble((Integer j) -> -norms[j]).thenComparingInt(j -> j))
                .limit(count).mapToInt(Integer::intValue).sorted().toArray();
    }

    /**
     * A new, smaller network: {@code source}'s configuration (layer types, activations, initialisers, updater,
     * seed, dropout) with the pruned layers narrowed to their kept units, the layers after them reading only the
     * kept inputs, and the kept weights and biases copied from {@code source}. Works on a trained network and on
     * a rewound (initial) one alike; {@code source} is not changed.
     *
     * <p>The result starts with a fresh optimizer: its updater state (Adam's moments) is zero and its
     * iteration and epoch counts are 0, so Adam's bias correction starts over together with its moments. Carrying
     * the old moments over would mean slicing them like the weights; a lottery-ticket rewind resets them anyway.
     *
     * <p>Without dropout, its outputs equal those of {@code source} with the dropped units masked (incoming
     * weights and bias set to zero) whenever the activation maps 0 to 0 (ReLU, tanh, identity): a masked unit
     * then sends nothing to the next layer, exactly like a removed one.
     *
     * @param keep a selection made on a network of the same architecture
     * @throws IllegalArgumentException when {@code keep} does not fit {@code source}, or a pruned unit feeds a
     *                                  layer this class cannot narrow
     */
    public static MultiLayerNetwork apply(MultiLayerNetwork source, StructuredSelection keep) {
        MultiLayerConfiguration conf = source.getLayerWiseConfigurations().clone();   // deep: layers and preprocessors
        conf.setIterationCount(0);
        conf.setEpochCount(0);
        int n = conf.getConfs().size();
        for (StructuredSelection.LayerKeep selected : keep.layers()) {
            if (selected.index() >= n) {
                throw new IllegalArgumentException("the selection does not fit this network: it names layer "
                        + selected.index() + " of a network with " + n + " layers");
            }
        }
        int[][] inputs = new int[n][];    // per layer: source indices of the inputs kept, null = all
        int[][] outputs = new int[n][];   // per layer: source indices of the units kept, null = all
        int[] carried = null;             // source indices of the units reaching the next layer, null = all
        for (int i = 0; i < n; i++) {
            Layer layer = layerConf(conf, i);
            Kind kind = kindOf(layer);
            StructuredSelection.LayerKeep selected = keep.layer(i);
            if (selected != null) checkFits(selected, layer, kind);
            InputPreProcessor pre = conf.getInputPreProcess(i);
            if (carried != null && pre != null) carried = throughPreprocessor(pre, carried, "layer " + i);
            switch (kind) {
                case DENSE, CONV -> {
                    FeedForwardLayer ff = (FeedForwardLayer) layer;
                    inputs[i] = carried;
                    outputs[i] = selected != null && selected.pruned() ? selected.kept() : null;
                    if (inputs[i] != null) ff.setNIn(inputs[i].length);
                    if (outputs[i] != null) ff.setNOut(outputs[i].length);
                    carried = outputs[i];
                }
                case PASS_THROUGH -> {
                }
                case OTHER -> {
                    if (carried != null) {
                        throw new IllegalArgumentException("layer " + i + " (" + layer.getClass().getSimpleName()
                                + ") follows a pruned layer, and structured pruning cannot narrow its inputs");
                    }
                }
            }
        }
        MultiLayerNetwork target = new MultiLayerNetwork(conf);
        target.init();
        for (int i = 0; i < n; i++) copyParams(source, target, i, kindOf(layerConf(conf, i)), inputs[i], outputs[i]);
        return target;
    }

    private static Layer layerConf(MultiLayerConfiguration conf, int i) {
        return conf.getConf(i).getLayer();
    }

    /** Refuses a selection made on another architecture, before anything is built. */
    private static void checkFits(StructuredSelection.LayerKeep selected, Layer layer, Kind kind) {
        if ((kind != Kind.DENSE && kind != Kind.CONV) || ((FeedForwardLayer) layer).getNOut() != selected.width()) {
            throw new IllegalArgumentException("the selection does not fit this network: layer " + selected.index()
                    + " is " + layer.getClass().getSimpleName() + (layer instanceof FeedForwardLayer ff
                    ? " with " + ff.getNOut() + " units" : "") + ", the selection has " + selected.width() + " units");
        }
    }

    /**
     * Where kept channels land after the conv-to-dense flattening, which the preprocessor's own channel count must
     * follow. NCHW flattens channel-major (channel c is the block {@code c*H*W .. c*H*W + H*W - 1}); NHWC puts
     * channel c of position p at {@code p*C + c}. Kept inputs are listed in the smaller network's flattened order.
     */
    static int[] throughPreprocessor(InputPreProcessor pre, int[] channels, String layer) {
        if (!(pre instanceof CnnToFeedForwardPreProcessor flat)) {
            throw new IllegalArgumentException(layer + " has a " + pre.getClass().getSimpleName()
                    + " after a pruned layer; structured pruning only follows CnnToFeedForwardPreProcessor");
        }
        int c = Math.toIntExact(flat.getNumChannels());
        int positions = Math.toIntExact(flat.getInputHeight() * flat.getInputWidth());
        int[] kept = new int[channels.length * positions];
        int k = 0;
        if (flat.getFormat() == CNN2DFormat.NHWC) {
            for (int p = 0; p < positions; p++) for (int ch : channels) kept[k++] = p * c + ch;
        } else {
            for (int ch : channels) for (int p = 0; p < positions; p++) kept[k++] = ch * positions + p;
        }
        flat.setNumChannels(channels.length);
        return kept;
    }

    /** Copies layer {@code i}'s parameters, keeping only the listed inputs and units (null = all). */
    private static void copyParams(MultiLayerNetwork source, MultiLayerNetwork target, int i, Kind kind,
                                   int[] inputs, int[] outputs) {
        Map<String, INDArray> params = source.getLayer(i).paramTable();
        boolean cut = inputs != null || outputs != null;
        if (cut && !Set.of("W", "b").containsAll(params.keySet())) {
            throw new IllegalArgumentException("layer " + i + " has parameters " + params.keySet()
                    + "; structured pruning only cuts W and b");
        }
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            INDArray value = e.getValue();
            if (e.getKey().equals("W")) {
                // Dense W is [nIn, nOut]; convolution W is [out, in, kH, kW].
                value = kind == Kind.DENSE ? take(take(value, 0, inputs), 1, outputs) : take(take(value, 0, outputs), 1, inputs);
            } else if (e.getKey().equals("b")) {
                value = take(value, value.rank() - 1, outputs);
            }
            INDArray into = target.getLayer(i).getParam(e.getKey());
            if (!Arrays.equals(into.shape(), value.shape())) {
                throw new IllegalStateException(String.format(Locale.ROOT, "layer %d parameter %s: built %s, cut %s",
                        i, e.getKey(), Arrays.toString(into.shape()), Arrays.toString(value.shape())));
            }
            into.assign(value);
        }
    }

    /** The entries of {@code a} at {@code indices} along {@code dim} (a copy), or {@code a} itself when null. */
    static INDArray take(INDArray a, int dim, int[] indices) {
        if (indices == null) return a;
        // Moves dim to the front and picks rows of a 2D view: ND4J M2.1's get() with an index list on a 4D
        // array fails (null data buffer), while row picking on a matrix is reliable.
        int[] order = new int[a.rank()];
        order[0] = dim;
        for (int d = 0, k = 1; d < a.rank(); d++) if (d != dim) order[k++] = d;
        INDArray front = a.permute(order).dup('c');
        long[] shape = front.shape();
        INDArray rows = front.reshape('c', shape[0], front.length() / shape[0]).getRows(indices);
        shape[0] = indices.length;
        int[] back = new int[order.length];
        for (int d = 0; d < order.length; d++) back[order[d]] = d;
        return rows.reshape('c', shape).permute(back);
    }
}
