package dev.squeeze.compress.network;

import dev.squeeze.core.BadInputException;
import dev.squeeze.models.zoo.layers.NativeConvolution;
import dev.squeeze.models.zoo.Network;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads a DL4J network into the steps of an all-float {@link StepNetwork}: dense, output and 2-D
 * convolution layers (NCHW, dilation 1), max and average pooling, global max and average pooling, the reshapes
 * between them; batch normalization folds into the layer before it, activation layers merge into it, dropout
 * vanishes at inference. A {@code ComputationGraph} may also hold residual blocks: a vertex whose output two paths
 * take, meeting again at an element-wise add ({@link Step.Residual}). Anything else is refused with the layer's
 * index (a graph: the vertex's name) and type, never approximated.
 */
public final class Dl4jLayers {
    private static final Set<Class<?>> CONVOLUTIONS = Set.of(ConvolutionLayer.class, NativeConvolution.class);
    static final String SUPPORTED = "dense, output, 2-D convolution, max/average pooling, global max/average pooling, "
            + "batch normalization (folded), activation and dropout layers";
    static final String GRAPH_SUPPORTED = SUPPORTED + ", and residual blocks: a vertex whose output two paths take, "
            + "meeting again at an element-wise Add";

    private Dl4jLayers() {
    }

    /** How a refusal names the layer or vertex it is about. */
    @FunctionalInterface
    private interface Refusal {
        BadInputException because(String why);
    }

    /** The steps read along one path of the network, and the shape of one example where they end. */
    private static final class Path {
        final List<Step> steps = new ArrayList<>();
        long[] shape;

        Path(long[] shape) {
            this.shape = shape;
        }

        Step last() {
            return steps.isEmpty() ? null : steps.get(steps.size() - 1);
        }

        void replaceLast(Step step) {
            steps.set(steps.size() - 1, step);
        }
    }

    /**
     * A layer stack or a graph, read as {@link #toFloatNetwork(MultiLayerNetwork, long[])} or
     * {@link #toFloatNetwork(ComputationGraph, long[])} reads it.
     *
     * @param inputShape one example's shape as the model file records it, e.g. [784] or [1, 28, 28]
     */
    public static StepNetwork toFloatNetwork(Network network, long[] inputShape) {
        if (network instanceof Network.Graph g) return toFloatNetwork(g.graph(), inputShape);
        return toFloatNetwork(((Network.Stack) network).net(), inputShape);
    }

    /** @param inputShape one example's shape as the model file records it, e.g. [784] or [1, 28, 28] */
    public static StepNetwork toFloatNetwork(MultiLayerNetwork net, long[] inputShape) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        Path path = new Path(flat(inputShape));   // inputs arrive flat
        for (int i = 0; i < net.getnLayers(); i++) {
            Layer layer = conf.getConf(i).getLayer();
            int index = i;
            Refusal refuse = why -> refuse(index, layer, why);
            preprocessor(path, conf.getInputPreProcess(i), refuse);
            layer(path, layer, net.getLayer(i), Integer.toString(i), i, refuse);
        }
        return new StepNetwork(inputShape, path.steps);
    }

    /**
     * Reads a {@code ComputationGraph} with one input and one output whose paths are series-parallel: where a vertex's
     * output is taken by two vertices, the two paths meet again at an element-wise Add, a residual block (the
     * shortcut path may be the vertex itself); blocks may nest. Layers are numbered as {@link Network#layers()}
     * numbers them (topological order), so {@code --keep-float} names them by that index; labels carry the vertex name.
     *
     * @param inputShape one example's shape as the model file records it, e.g. [1, 28, 28]
     */
    public static StepNetwork toFloatNetwork(ComputationGraph graph, long[] inputShape) {
        return new GraphReader(graph).read(inputShape);
    }

    /** Follows a graph's paths from its input, a residual block for every split. */
    private static final class GraphReader {
        private final ComputationGraph graph;
        private final ComputationGraphConfiguration conf;
        private final Map<String, List<String>> consumers = new HashMap<>();
        private final Map<String, Integer> indices = new HashMap<>();

        /**
         * Where a path stopped: at {@code join}, a vertex with several inputs, reached from vertex {@code from}; or at
         * the graph's output ({@code join} null, {@code from} the output).
         */
        private record Reached(String join, String from) {
        }

        GraphReader(ComputationGraph graph) {
            this.graph = graph;
            this.conf = graph.getConfiguration();
            conf.getVertexInputs().forEach((vertex, inputs) -> {
                for (String in : inputs) consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(vertex);
            });
            consumers.values().forEach(list -> list.sort(null));
            for (Network.NamedLayer l : new Network.Graph(graph).layers()) indices.put(l.name(), l.index());
        }

        StepNetwork read(long[] inputShape) {
            List<String> inputs = conf.getNetworkInputs();
            List<String> outputs = conf.getNetworkOutputs();
            if (inputs.size() != 1 || outputs.size() != 1) {
                throw new BadInputException("the graph has inputs " + inputs + " and outputs " + outputs + "; int8 and "
                        + "ONNX take graphs with one input (the features) and one output (the class probabilities)");
            }
            Path path = new Path(flat(inputShape));
            Reached end = follow(inputs.get(0), path);
            if (end.join() != null) {
                throw vertex(end.join(), "it takes an input ('" + end.from() + "') from a path that did not split "
                        + "off beside its other inputs; Squeeze reads " + GRAPH_SUPPORTED);
            }
            if (!(path.last() instanceof Step.Linear)) {
                throw vertex(end.from(), "the graph must end in a dense output layer");
            }
            return new StepNetwork(inputShape, path.steps);
        }

        /** Reads vertices from {@code x}'s output on until a vertex with several inputs, or the graph's output. */
        private Reached follow(String x, Path path) {
            while (true) {
                List<String> next = consumers.getOrDefault(x, List.of());
                if (next.isEmpty()) {
                    if (conf.getNetworkOutputs().contains(x)) return new Reached(null, x);
                    throw vertex(x, "no vertex takes its output and it is not the graph's output");
                }
                if (next.size() > 2) {
                    throw vertex(x, "its output goes to " + next.size() + " vertices " + next + "; Squeeze reads "
                            + GRAPH_SUPPORTED);
                }
                if (next.size() == 2) {
                    x = residual(x, next, path);
                    continue;
                }
                String v = next.get(0);
                if (conf.getVertexInputs().get(v).size() > 1) return new Reached(v, x);
                read(v, path);
                x = v;
            }
        }

        /** The residual block whose paths start at {@code next}, both taking {@code x}; returns the add's name. */
        private String residual(String x, List<String> next, Path path) {
            Path[] paths = {new Path(path.shape), new Path(path.shape)};
            Reached[] reached = new Reached[2];
            for (int i = 0; i < 2; i++) {
                String v = next.get(i);
                if (conf.getVertexInputs().get(v).size() > 1) {
                    reached[i] = new Reached(v, x);
                } else {
                    read(v, paths[i]);
                    reached[i] = follow(v, paths[i]);
                }
            }
            String join = reached[0].join();
            if (join == null || !join.equals(reached[1].join())) {
                throw vertex(x, "its output goes to '" + next.get(0) + "' and '" + next.get(1) + "', paths that do "
                        + "not meet again at one vertex; Squeeze reads " + GRAPH_SUPPORTED);
            }
            GraphVertex add = conf.getVertices().get(join);
            if (!(add instanceof ElementWiseVertex e)) {
                throw vertex(join, "two paths meet here; where paths meet Squeeze reads only an element-wise Add (a "
                        + "residual block), not a merge (concatenation) or any other vertex with several inputs");
            }
            if (e.getOp() != ElementWiseVertex.Op.Add) {
                throw vertex(join, "it is an element-wise " + e.getOp() + "; of the element-wise operations only Add "
                        + "(a residual block) is supported");
            }
            List<String> inputs = conf.getVertexInputs().get(join);
            if (inputs.size() != 2) throw vertex(join, "it adds " + inputs.size() + " inputs; a residual add takes two");
            if (reached[0].from().equals(reached[1].from())) throw vertex(join, "it adds '" + x + "' to itself");
            int first = inputs.get(0).equals(reached[0].from()) ? 0 : 1;
            Path main = paths[first];
            Path shortcut = paths[1 - first];
            if (main.steps.isEmpty()) {
                Path swap = main;
                main = shortcut;
                shortcut = swap;
            }
            if (!Arrays.equals(main.shape, shortcut.shape)) {
                throw vertex(join, "it adds shapes " + Arrays.toString(main.shape) + " and "
                        + Arrays.toString(shortcut.shape));
            }
            path.steps.add(new Step.Residual(join, main.steps, shortcut.steps, new ActivationIdentity(), null));
            path.shape = main.shape;
            return join;
        }

        /** Adds the steps of vertex {@code v}, which has one input. */
        private void read(String v, Path path) {
            GraphVertex vertex = conf.getVertices().get(v);
            if (vertex instanceof LayerVertex lv) {
                Layer layer = lv.getLayerConf().getLayer();
                Refusal refuse = why -> refusal(v, layer.getClass().getSimpleName(), why);
                preprocessor(path, lv.getPreProcessor(), refuse);
                int index = indices.get(v);
                layer(path, layer, graph.getLayer(v), index + " " + v, index, refuse);
            } else if (vertex instanceof PreprocessorVertex pv) {
                preprocessor(path, pv.getPreProcessor(), why -> vertex(v, why));
            } else {
                throw vertex(v, "Squeeze reads " + GRAPH_SUPPORTED);
            }
        }

        private BadInputException vertex(String v, String why) {
            GraphVertex vertex = conf.getVertices().get(v);
            String type = vertex == null ? "input" : vertex instanceof LayerVertex lv
                    ? lv.getLayerConf().getLayer().getClass().getSimpleName() : vertex.getClass().getSimpleName();
            return refusal(v, type, why);
        }

        private static BadInputException refusal(String v, String type, String why) {
            return new BadInputException("vertex '" + v + "' (" + type + ") is not supported for int8 or ONNX: " + why);
        }
    }

    /** The reshape a DL4J input preprocessor does between flat and NCHW activations, if any. */
    private static void preprocessor(Path path, InputPreProcessor pre, Refusal refuse) {
        if (pre instanceof FeedForwardToCnnPreProcessor p) {
            path.shape = new long[]{p.getNumChannels(), p.getInputHeight(), p.getInputWidth()};
            path.steps.add(new Step.Reshape(path.shape));
        } else if (pre instanceof CnnToFeedForwardPreProcessor p) {
            if (p.getFormat() != CNN2DFormat.NCHW) throw refuse.because("its input is NHWC; only NCHW is supported");
            path.shape = new long[]{p.getNumChannels() * p.getInputHeight() * p.getInputWidth()};
            path.steps.add(new Step.Reshape(path.shape));
        } else if (pre != null) {
            throw refuse.because("its input preprocessor " + pre.getClass().getSimpleName() + " is not supported");
        }
    }

    /**
     * Adds the steps of one layer to {@code path}.
     *
     * @param live  the layer with its parameters
     * @param name  how its step's label starts: the index, and for a graph the vertex name
     * @param index the layer's index ({@link Step.Linear#layer()})
     */
    private static void layer(Path path, Layer layer, org.deeplearning4j.nn.api.Layer live, String name, int index,
                              Refusal refuse) {
        long[] shape = path.shape;
        if (layer instanceof DropoutLayer) return;
        if (layer instanceof ActivationLayer a) {
            IActivation fn = WrappedActivation.unwrap(a.getActivationFn());
            if (path.last() instanceof FloatLinear f && f.activation() instanceof ActivationIdentity) {
                path.replaceLast(new FloatLinear(f.layer(), f.label() + " + " + a.getActivationFn(), f.geometry(),
                        f.weights(), f.bias(), fn));
            } else if (path.last() instanceof Step.Residual r && r.activation() instanceof ActivationIdentity) {
                path.replaceLast(new Step.Residual(r.label(), r.main(), r.shortcut(), fn, r.output()));
            } else {
                throw refuse.because("an activation layer is supported right after a dense, convolutional or batch "
                        + "normalization layer whose own activation is identity, or after a residual add");
            }
            return;
        }
        if (layer instanceof BatchNormalization bn) {
            path.replaceLast(foldBatchNorm(live, bn, path.last(), refuse));
            return;
        }
        if (CONVOLUTIONS.contains(layer.getClass())) {
            ConvolutionLayer c = (ConvolutionLayer) layer;
            if (c.getCnn2dDataFormat() != CNN2DFormat.NCHW) throw refuse.because("it is NHWC; only NCHW is supported");
            if (c.getDilation()[0] != 1 || c.getDilation()[1] != 1) throw refuse.because("it is dilated");
            if (shape.length != 3) throw refuse.because("its input is not an image");
            boolean same = c.getConvolutionMode() == ConvolutionMode.Same;
            var g = new Geometry.Conv(c.getKernelSize()[0], c.getKernelSize()[1], c.getStride()[0], c.getStride()[1],
                    c.getPadding()[0], c.getPadding()[1], same, (int) c.getNIn(), (int) c.getNOut(), (int) shape[1],
                    (int) shape[2]);
            String label = String.format("%s conv %dx%d %d->%d", name, g.kernelH(), g.kernelW(), g.inChannels(), g.outChannels());
            path.steps.add(new FloatLinear(index, label, g, live.getParam("W").dup('c'), bias(live, g.outChannels()),
                    activation(c)));
            path.shape = new long[]{g.outChannels(), g.outH(), g.outW()};
        } else if (layer instanceof DenseLayer || layer.getClass() == OutputLayer.class) {
            FeedForwardLayer ff = (FeedForwardLayer) layer;
            if (shape.length != 1) throw refuse.because("its input is not flat");
            String kind = layer instanceof DenseLayer ? "dense" : "output";
            String label = String.format("%s %s %d->%d", name, kind, ff.getNIn(), ff.getNOut());
            path.steps.add(new FloatLinear(index, label, new Geometry.Dense(), live.getParam("W").dup('c'),
                    bias(live, (int) ff.getNOut()), activation(ff)));
            path.shape = new long[]{ff.getNOut()};
        } else if (layer.getClass() == SubsamplingLayer.class) {
            SubsamplingLayer s = (SubsamplingLayer) layer;
            if (s.getPoolingType() != PoolingType.MAX && s.getPoolingType() != PoolingType.AVG) {
                throw refuse.because("it pools by " + s.getPoolingType() + "; only MAX and AVG are supported");
            }
            if (s.getCnn2dDataFormat() != CNN2DFormat.NCHW) throw refuse.because("it is NHWC; only NCHW is supported");
            if (s.getDilation()[0] != 1 || s.getDilation()[1] != 1) throw refuse.because("it is dilated");
            if (shape.length != 3) throw refuse.because("its input is not an image");
            boolean same = s.getConvolutionMode() == ConvolutionMode.Same;
            int[] k = s.getKernelSize(), st = s.getStride(), p = s.getPadding();
            path.steps.add(new Step.Pooling(s.getPoolingType() == PoolingType.MAX, k[0], k[1], st[0], st[1], p[0], p[1],
                    same, s.isAvgPoolIncludePadInDivisor()));
            path.shape = new long[]{shape[0], Geometry.outSize((int) shape[1], k[0], st[0], p[0], same),
                    Geometry.outSize((int) shape[2], k[1], st[1], p[1], same)};
        } else if (layer.getClass() == GlobalPoolingLayer.class) {
            GlobalPoolingLayer gp = (GlobalPoolingLayer) layer;
            if (gp.getPoolingType() != PoolingType.MAX && gp.getPoolingType() != PoolingType.AVG) {
                throw refuse.because("it pools by " + gp.getPoolingType() + "; only MAX and AVG are supported");
            }
            if (!gp.isCollapseDimensions()) throw refuse.because("it keeps the pooled dimensions; only collapsed is supported");
            int[] dims = gp.getPoolingDimensions();
            if (dims != null && !Arrays.equals(dims, new int[]{2, 3})) {
                throw refuse.because("it pools over dimensions " + Arrays.toString(dims) + "; only NCHW height and width");
            }
            if (shape.length != 3) throw refuse.because("its input is not an image");
            path.steps.add(new Step.GlobalPooling(gp.getPoolingType() == PoolingType.MAX));
            path.shape = new long[]{shape[0]};
        } else {
            throw refuse.because("Squeeze reads " + SUPPORTED);
        }
    }

    private static long[] flat(long[] inputShape) {
        return new long[]{Arrays.stream(inputShape).reduce(1, (a, b) -> a * b)};
    }

    /**
     * Batch normalization at inference is a per-channel affine map, y = g (x - mean) + beta with
     * g = gamma / sqrt(var + eps); right after a layer with an identity activation it folds into that layer's
     * weights (scaled by g per output channel) and bias ((b - mean) g + beta), and the batch norm's own activation
     * becomes the layer's.
     */
    private static FloatLinear foldBatchNorm(org.deeplearning4j.nn.api.Layer layer, BatchNormalization bn, Step previous,
                                             Refusal refuse) {
        if (!(previous instanceof FloatLinear f)) {
            throw refuse.because("batch normalization folds only into a dense or convolutional layer right before it");
        }
        if (!(f.activation() instanceof ActivationIdentity)) {
            throw refuse.because("it follows layer " + f.label() + "'s " + f.activation() + " activation, so it cannot be "
                    + "folded into that layer; give that layer an identity activation (and the batch norm the activation)");
        }
        int channels = (int) f.bias().length();
        double[] mean = host(layer.getParam("mean"));
        double[] std = new double[channels];
        INDArray var = layer.getParam("var");
        double[] source = host(var != null ? var : layer.getParam("log10stdev"));
        // As DL4J at inference: std = sqrt(var + eps), var the running variance or, when the layer keeps log10 of the
        // standard deviation instead (its default), (10^log10stdev)^2, to which eps is added again (measured: taking
        // 10^log10stdev as std left resnet-tiny's folded probabilities 7.6e-5 from DL4J's, against 2e-6 this way).
        for (int c = 0; c < channels; c++) {
            double variance = var != null ? source[c] : Math.pow(10, 2 * source[c]);
            std[c] = Math.sqrt(variance + bn.getEps());
        }
        double[] gamma = bn.isLockGammaBeta() ? filled(channels, bn.getGamma()) : host(layer.getParam("gamma"));
        double[] beta = bn.isLockGammaBeta() ? filled(channels, bn.getBeta()) : host(layer.getParam("beta"));
        double[] g = new double[channels];
        double[] b = host(f.bias());
        for (int c = 0; c < channels; c++) {
            g[c] = gamma[c] / std[c];
            b[c] = (b[c] - mean[c]) * g[c] + beta[c];
        }
        int axis = f.geometry().outputChannelAxis();
        INDArray folded = Broadcast.mul(f.weights().castTo(DataType.DOUBLE), Nd4j.createFromArray(g),
                f.weights().castTo(DataType.DOUBLE).ulike(), axis);
        INDArray bias = Nd4j.createFromArray(b);
        // DL4J's BatchNormalization layer does not apply the activation its configuration names (measured: its
        // output is the affine map alone), so neither does the folded layer; an ActivationLayer after it does.
        return new FloatLinear(f.layer(), f.label() + " + batchnorm", f.geometry(), folded.castTo(DataType.FLOAT),
                bias.castTo(DataType.FLOAT), new ActivationIdentity());
    }

    private static double[] host(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    private static double[] filled(int n, double value) {
        double[] out = new double[n];
        Arrays.fill(out, value);
        return out;
    }

    private static INDArray bias(org.deeplearning4j.nn.api.Layer layer, int channels) {
        INDArray b = layer.getParam("b");
        return b == null ? Nd4j.zeros(channels) : b.dup('c').reshape(channels);
    }

    /** The layer's activation; a fine-tuned (QAT) network's fake quantization is the int8 step's job, not its activation's. */
    private static IActivation activation(BaseLayer layer) {
        return WrappedActivation.unwrap(layer.getActivationFn());
    }

    static BadInputException refuse(int index, Layer layer, String why) {
        String given = layer.getLayerName();
        String name = given == null || given.equals("layer" + index) ? "" : " '" + given + "'";
        return new BadInputException("layer " + index + name + " (" + layer.getClass().getSimpleName()
                + ") is not supported for int8 or ONNX: " + why);
    }
}
