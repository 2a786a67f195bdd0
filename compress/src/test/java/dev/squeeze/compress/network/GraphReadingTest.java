package dev.squeeze.compress.network;

import dev.squeeze.core.BadInputException;
import dev.squeeze.models.zoo.Network;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Small DL4J graphs read into steps: what is read, and what is refused with the vertex's name and type. */
class GraphReadingTest {
    private static final long[] IMAGE = {1, 8, 8};

    /** input -> conv "a" -> (what {@code body} adds, ending at vertex "body") -> global pool -> output. */
    private static ComputationGraph graph(Consumer<ComputationGraphConfiguration.GraphBuilder> body) {
        var g = new NeuralNetConfiguration.Builder().seed(1).updater(new Adam(1e-2)).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutionalFlat(8, 8, 1))
                .addLayer("a", conv(4), "in");
        body.accept(g);
        g.addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "body")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out");
        ComputationGraph graph = new ComputationGraph(g.build());
        graph.init();
        return graph;
    }

    private static ConvolutionLayer conv(int out) {
        return new ConvolutionLayer.Builder(3, 3).nOut(out).convolutionMode(ConvolutionMode.Same)
                .activation(Activation.IDENTITY).build();
    }

    private static String refusal(ComputationGraph graph) {
        return assertThrows(BadInputException.class, () -> Dl4jLayers.toFloatNetwork(graph, IMAGE)).getMessage();
    }

    @Test
    void aMergeVertexIsRefusedByNameAndType() {
        String m = refusal(graph(g -> g.addLayer("b", conv(4), "a").addLayer("c", conv(4), "a")
                .addVertex("body", new MergeVertex(), "b", "c")));
        assertTrue(m.contains("vertex 'body' (MergeVertex)") && m.contains("element-wise Add"), m);
    }

    @Test
    void otherElementWiseOperationsAreRefusedNamingTheOperation() {
        String m = refusal(graph(g -> g.addLayer("b", conv(4), "a")
                .addVertex("body", new ElementWiseVertex(ElementWiseVertex.Op.Product), "b", "a")));
        assertTrue(m.contains("vertex 'body' (ElementWiseVertex)") && m.contains("Product"), m);
    }

    @Test
    void aVertexFeedingThreePathsIsRefusedByName() {
        String m = refusal(graph(g -> g.addLayer("b", conv(4), "a").addLayer("c", conv(4), "a")
                .addVertex("bc", new ElementWiseVertex(ElementWiseVertex.Op.Add), "b", "c")
                .addVertex("body", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bc", "a")));
        assertTrue(m.contains("vertex 'a' (ConvolutionLayer)") && m.contains("3 vertices"), m);
    }

    @Test
    void pathsThatDoNotMeetAtOneAddAreRefused() {
        // a -> b, a -> c; b + c -> d; but c also feeds e, and d + e: c splits again before the first add.
        String m = refusal(graph(g -> g.addLayer("b", conv(4), "a").addLayer("c", conv(4), "a")
                .addLayer("e", conv(4), "c")
                .addVertex("d", new ElementWiseVertex(ElementWiseVertex.Op.Add), "b", "c")
                .addVertex("body", new ElementWiseVertex(ElementWiseVertex.Op.Add), "d", "e")));
        assertTrue(m.startsWith("vertex '"), m);
        assertTrue(m.contains("is not supported for int8 or ONNX"), m);
    }

    @Test
    void anUnsupportedLayerInABranchIsRefusedByVertexName() {
        String m = refusal(graph(g -> g.addLayer("lrn", new LocalResponseNormalization.Builder().build(), "a")
                .addVertex("body", new ElementWiseVertex(ElementWiseVertex.Op.Add), "lrn", "a")));
        assertTrue(m.contains("vertex 'lrn' (LocalResponseNormalization)"), m);
    }

    @Test
    void aBatchNormRightAfterTheAddCannotFoldAndIsRefused() {
        String m = refusal(graph(g -> g.addLayer("b", conv(4), "a")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "b", "a")
                .addLayer("body", new BatchNormalization.Builder().build(), "add")));
        assertTrue(m.contains("vertex 'body' (BatchNormalization)") && m.contains("folds only"), m);
    }

    @Test
    void nestedBlocksAndAShortcutWrittenFirstAreRead() {
        // add(a, main) with the shortcut as the add's first input; inside the main path another block.
        ComputationGraph graph = graph(g -> g
                .addLayer("b", conv(4), "a")
                .addLayer("b_bn", new BatchNormalization.Builder().build(), "b")
                .addLayer("c", conv(4), "b_bn")
                .addVertex("inner", new ElementWiseVertex(ElementWiseVertex.Op.Add), "c", "b_bn")
                .addLayer("inner_relu", new ActivationLayer(Activation.RELU), "inner")
                .addVertex("body", new ElementWiseVertex(ElementWiseVertex.Op.Add), "a", "inner_relu"));
        INDArray x = Nd4j.rand(DataType.FLOAT, 20, 64);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 20, 3);
        for (int i = 0; i < 20; i++) y.putScalar(i, i % 3, 1);
        for (int i = 0; i < 3; i++) graph.fit(new DataSet(x, y));
        StepNetwork f = Dl4jLayers.toFloatNetwork(graph, IMAGE);
        Step.Residual outer = (Step.Residual) f.steps().stream().filter(s -> s instanceof Step.Residual).findFirst().orElseThrow();
        assertEquals("body", outer.label());
        assertTrue(outer.shortcut().isEmpty(), "the empty path is the shortcut whichever input of the add it is");
        assertInstanceOf(Step.Residual.class, outer.main().get(outer.main().size() - 1));
        // Layers are numbered as Network.layers() numbers them (what --keep-float takes); labels name the vertex.
        var index = new java.util.HashMap<String, Integer>();
        for (var l : new Network.Graph(graph).layers()) index.put(l.name(), l.index());
        assertEquals(List.of(index.get("a") + " a conv 3x3 1->4", index.get("b") + " b conv 3x3 4->4 + batchnorm",
                        index.get("c") + " c conv 3x3 4->4", index.get("out") + " out output 4->3"),
                f.linearSteps().stream().map(StepNetwork::labelOf).toList());
        assertEquals(List.of(index.get("a"), index.get("b"), index.get("c"), index.get("out")),
                f.linearSteps().stream().map(StepNetwork::layerOf).toList());
        INDArray want = graph.outputSingle(false, x);
        assertTrue(want.sub(f.probabilities(x)).amaxNumber().doubleValue() <= 1e-5);
    }

    @Test
    void aDenseGraphWithoutBlocksReadsLikeAStack() {
        var conf = new NeuralNetConfiguration.Builder().seed(1).graphBuilder().addInputs("in")
                .setInputTypes(InputType.feedForward(5))
                .addLayer("h", new DenseLayer.Builder().nOut(4).activation(Activation.RELU).build(), "in")
                .addLayer("out", new OutputLayer.Builder().nOut(2).activation(Activation.SOFTMAX).build(), "h")
                .setOutputs("out").build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        StepNetwork f = Dl4jLayers.toFloatNetwork(graph, new long[]{5});
        assertEquals(2, f.steps().size());
        INDArray x = Nd4j.rand(DataType.FLOAT, 7, 5);
        assertTrue(graph.outputSingle(false, x).sub(f.probabilities(x)).amaxNumber().doubleValue() <= 1e-6);
    }
}
