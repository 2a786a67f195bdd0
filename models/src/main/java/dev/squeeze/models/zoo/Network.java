package dev.squeeze.models.zoo;

import dev.squeeze.core.BadInputException;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A DL4J network of either kind every stage takes: a {@link Stack} (a {@code MultiLayerNetwork}, layers in a row) or
 * a {@link Graph} (a {@code ComputationGraph} with one input and one output: residual blocks, merges). What training,
 * evaluation and the parameter-level stages need is here once, so they do not care which kind they hold; the
 * stages that read the structure (export, int8, structured pruning) look at {@link #layers()} or the graph itself.
 */
public sealed interface Network permits Network.Stack, Network.Graph {

    /** The DL4J object, for what only DL4J does (saving, its parameter table). */
    Model model();

    /** One optimizer step on {@code batch}. */
    void fit(DataSet batch);

    /** The loss of the last {@link #fit} (or score computation). */
    double score();

    void setLearningRate(double rate);

    /** The loss on {@code data} in inference mode, with no optimizer step (DL4J's {@code score(data, false)}). */
    double loss(DataSet data);

    /** Class probabilities for a batch of feature rows, in inference mode (no dropout, batch norm's running statistics). */
    INDArray output(INDArray features);

    /** A deep copy: configuration, parameters and optimizer state. */
    Network copy();

    /** The output layer's configuration: a stack's last layer, a graph's output vertex. Changes to it take effect. */
    BaseOutputLayer outputLayer();

    /** A new network with the same parameters whose output layer's configuration {@code change} has altered. */
    Network withOutputLayer(Consumer<BaseOutputLayer> change);

    /** "layer stack" or "graph", for messages. */
    String kind();

    /**
     * Every layer in the order it computes (a graph's topological order), with the name its parameters are keyed by
     * in {@link #paramTable()}: the index for a stack ({@code 0_W}), the vertex name for a graph ({@code stem_W}).
     */
    List<NamedLayer> layers();

    /**
     * A layer and the name that keys its parameters.
     *
     * @param name   the prefix of its parameter keys: the layer index for a stack, the vertex name for a graph
     * @param index  its position in {@link #layers()}
     * @param config the layer's configuration (its type, sizes, activation)
     * @param layer  the live layer (its parameters)
     */
    record NamedLayer(String name, int index, Layer config, org.deeplearning4j.nn.api.Layer layer) {
        /** The key of parameter {@code p} ({@code W}, {@code b}, ...) in the network's parameter table. */
        public String key(String p) {
            return name + "_" + p;
        }

        /** How people see it in messages: "layer 3 (DenseLayer)" or "vertex 's1_conv1' (ConvolutionLayer)". */
        public String describe(boolean graph) {
            return (graph ? "vertex '" + name + "'" : "layer " + name) + " (" + config.getClass().getSimpleName() + ")";
        }
    }

    default INDArray params() {
        return model().params();
    }

    default long numParams() {
        return model().numParams();
    }

    default void setParams(INDArray params) {
        model().setParams(params);
    }

    /** Parameters by key ({@link NamedLayer#key}), views into the flat parameter vector. */
    default Map<String, INDArray> paramTable() {
        return model().paramTable();
    }

    default INDArray getParam(String key) {
        return model().getParam(key);
    }

    /** The MultiLayerNetwork of a stack, for code that handles only stacks; an IllegalStateException for a graph. */
    default MultiLayerNetwork asStack() {
        if (this instanceof Stack s) return s.net();
        throw new IllegalStateException("expected a layer stack (MultiLayerNetwork), got a " + kind());
    }

    default boolean isGraph() {
        return this instanceof Graph;
    }

    /** Wraps a DL4J network of either kind; a graph must have exactly one input and one output. */
    static Network of(Model model) {
        if (model instanceof MultiLayerNetwork m) return new Stack(m);
        if (model instanceof ComputationGraph g) {
            var conf = g.getConfiguration();
            if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1) {
                throw new BadInputException("the ComputationGraph has " + conf.getNetworkInputs().size() + " inputs "
                        + conf.getNetworkInputs() + " and " + conf.getNetworkOutputs().size() + " outputs "
                        + conf.getNetworkOutputs() + "; squeeze takes graphs with one input (the features) and one "
                        + "output (the class probabilities)");
            }
            return new Graph(g);
        }
        throw new IllegalArgumentException("not a DL4J MultiLayerNetwork or ComputationGraph: " + model.getClass());
    }

    /** Layers in a row: a {@code MultiLayerNetwork}. */
    record Stack(MultiLayerNetwork net) implements Network {
        @Override
        public Model model() {
            return net;
        }

        @Override
        public void fit(DataSet batch) {
            net.fit(batch);
        }

        @Override
        public double score() {
            return net.score();
        }

        @Override
        public void setLearningRate(double rate) {
            net.setLearningRate(rate);
        }

        @Override
        public double loss(DataSet data) {
            return net.score(data, false);
        }

        @Override
        public INDArray output(INDArray features) {
            return net.output(features, false);
        }

        @Override
        public Network copy() {
            return new Stack(net.clone());
        }

        @Override
        public BaseOutputLayer outputLayer() {
            return outputOf(net.getLayerWiseConfigurations());
        }

        private static BaseOutputLayer outputOf(org.deeplearning4j.nn.conf.MultiLayerConfiguration conf) {
            return (BaseOutputLayer) conf.getConf(conf.getConfs().size() - 1).getLayer();
        }

        @Override
        public Network withOutputLayer(Consumer<BaseOutputLayer> change) {
            var conf = net.getLayerWiseConfigurations().clone();
            change.accept(outputOf(conf));
            MultiLayerNetwork changed = new MultiLayerNetwork(conf);
            changed.init(net.params().dup(), false);
            return new Stack(changed);
        }

        @Override
        public String kind() {
            return "layer stack";
        }

        @Override
        public List<NamedLayer> layers() {
            List<NamedLayer> out = new ArrayList<>();
            for (int i = 0; i < net.getnLayers(); i++) {
                out.add(new NamedLayer(Integer.toString(i), i, net.getLayerWiseConfigurations().getConf(i).getLayer(),
                        net.getLayer(i)));
            }
            return out;
        }
    }

    /** A {@code ComputationGraph} with one input and one output. */
    record Graph(ComputationGraph graph) implements Network {
        @Override
        public Model model() {
            return graph;
        }

        @Override
        public void fit(DataSet batch) {
            graph.fit(batch);
        }

        @Override
        public double score() {
            return graph.score();
        }

        @Override
        public void setLearningRate(double rate) {
            graph.setLearningRate(rate);
        }

        @Override
        public double loss(DataSet data) {
            return graph.score(data, false);
        }

        @Override
        public INDArray output(INDArray features) {
            return graph.outputSingle(false, features);
        }

        @Override
        public Network copy() {
            return new Graph(graph.clone());
        }

        @Override
        public BaseOutputLayer outputLayer() {
            return outputOf(graph.getConfiguration());
        }

        private static BaseOutputLayer outputOf(org.deeplearning4j.nn.conf.ComputationGraphConfiguration conf) {
            var vertex = conf.getVertices().get(conf.getNetworkOutputs().get(0));
            if (vertex instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof BaseOutputLayer out) return out;
            throw new BadInputException("the graph's output vertex '" + conf.getNetworkOutputs().get(0) + "' ("
                    + vertex.getClass().getSimpleName() + ") is not an output layer; squeeze needs a graph that ends in "
                    + "an OutputLayer (softmax with a loss)");
        }

        @Override
        public Network withOutputLayer(Consumer<BaseOutputLayer> change) {
            var conf = graph.getConfiguration().clone();
            change.accept(outputOf(conf));
            ComputationGraph changed = new ComputationGraph(conf);
            changed.init(graph.params().dup(), false);
            return new Graph(changed);
        }

        @Override
        public String kind() {
            return "graph";
        }

        @Override
        public List<NamedLayer> layers() {
            List<NamedLayer> out = new ArrayList<>();
            GraphVertex[] vertices = graph.getVertices();
            for (int i : graph.topologicalSortOrder()) {
                GraphVertex v = vertices[i];
                if (!v.hasLayer()) continue;
                var config = graph.getConfiguration().getVertices().get(v.getVertexName());
                Layer layer = ((org.deeplearning4j.nn.conf.graph.LayerVertex) config).getLayerConf().getLayer();
                out.add(new NamedLayer(v.getVertexName(), out.size(), layer, v.getLayer()));
            }
            return out;
        }
    }
}
