package dev.squeeze.compress.prune;

import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.ShuffledBatches;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.zoo.BuildSettings;
import dev.squeeze.models.zoo.ModelZoo;
import dev.squeeze.models.zoo.Network;
import dev.squeeze.models.zoo.layers.NativeConvolution;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Structured channel pruning of the zoo's residual graph, briefly trained on real (fixture) Fashion-MNIST. */
class GraphChannelPruningTest {
    /** resnet-tiny's convolutions grouped by the Adds that tie their channels. */
    private static final List<List<String>> GROUPS = List.of(List.of("stem", "s1_conv2"), List.of("s1_conv1"),
            List.of("s2_conv1"), List.of("s2_conv2", "s2_proj"), List.of("s3_conv1"), List.of("s3_conv2", "s3_proj"));

    private static TrainingData data;
    private static INDArray testFeatures;
    private static ComputationGraph initial;
    private static ComputationGraph trained;

    @BeforeAll
    static void train() {
        data = Fixtures.fashionMnist();
        testFeatures = data.test().head(100).toDataSet().getFeatures();
        Network net = ModelZoo.get("resnet-tiny").build(new BuildSettings(5, 3e-3, data.inputShape(), 10));
        initial = ((Network.Graph) net).graph();
        trained = initial.clone();
        var batches = new ShuffledBatches(data.train(), 60, 1);
        for (int step = 0; step < 12; step++) trained.fit(batches.batch(1, step));
    }

    @Test
    void channelsTiedByAResidualAddAreGroupedAndRankedByTheirSummedBatchNormScale() {
        GraphChannelSelection keep = GraphChannelPruning.select(trained, 0.5);
        assertEquals(sorted(GROUPS), sorted(keep.groups().stream().map(GraphChannelSelection.ChannelGroup::convolutions)
                .toList()), "the stem's channels reach stage 1's Add through the identity shortcut, each projection "
                + "meets its block's second convolution");
        assertEquals(2, keep.kept("s1_conv2").length);
        assertEquals(2, keep.kept("s1_conv1").length);
        for (String conv : List.of("s2_conv1", "s2_conv2", "s3_conv1", "s3_proj")) assertEquals(4, keep.kept(conv).length);
        assertTrue(keep.describe().contains("stem+s1_conv2 2/4"), keep.describe());
        assertArrayEquals(strongest(4, "s2_bn2", "s2_proj_bn"), keep.kept("s2_proj"));
        assertArrayEquals(strongest(2, "stem_bn", "s1_bn2"), keep.kept("stem"));
        assertArrayEquals(strongest(4, "s3_bn1"), keep.kept("s3_conv1"));
        assertArrayEquals(keep.kept("s3_conv2"), keep.kept("s3_proj"));
    }

    @Test
    void theSmallerGraphComputesExactlyWhatTheOriginalDoesWithTheDroppedChannelsSilenced() {
        float[] before = trained.params().toFloatVector();
        GraphChannelSelection keep = GraphChannelPruning.select(trained, 0.5);
        ComputationGraph small = GraphChannelPruning.apply(trained, keep);
        assertArrayEquals(before, trained.params().toFloatVector(), "the source is not changed");

        assertEquals(parameters(new int[]{4, 4, 8, 8, 8, 8}), trained.numParams(), "the count below is resnet-tiny's");
        assertEquals(parameters(new int[]{2, 2, 4, 4, 4, 4}), small.numParams());

        INDArray expected = silenced(trained, keep).outputSingle(false, testFeatures);
        INDArray actual = small.outputSingle(false, testFeatures);
        assertArrayEquals(new long[]{100, 10}, actual.shape());
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-5, "largest difference " + diff);
        double changed = trained.outputSingle(false, testFeatures).sub(actual).amaxNumber().doubleValue();
        assertTrue(changed > 1e-3, "removing half the channels changes the outputs: " + changed);

        // It trains: shapes agree in the backward pass too.
        DataSet batch = new ShuffledBatches(data.train(), 60, 2).batch(1, 0);
        small.fit(batch);
        assertTrue(Double.isFinite(small.score()));
    }

    @Test
    void keepingOneChannelPerGroupStillComputesExactly() {
        GraphChannelSelection keep = GraphChannelPruning.select(trained, 1);
        assertTrue(keep.groups().stream().allMatch(g -> g.kept().length == 1), keep.describe());
        ComputationGraph small = GraphChannelPruning.apply(trained, keep);
        assertEquals(parameters(new int[]{1, 1, 1, 1, 1, 1}), small.numParams());
        double diff = silenced(trained, keep).outputSingle(false, testFeatures)
                .sub(small.outputSingle(false, testFeatures)).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-5, "largest difference " + diff);
    }

    @Test
    void aSelectionFromTheTrainedGraphCutsTheRewoundOne() {
        GraphChannelSelection keep = GraphChannelPruning.select(trained, 0.5);
        ComputationGraph ticket = GraphChannelPruning.apply(initial, keep);
        // s2_proj: W [out, in, 1, 1]; its outputs are its group's channels, its inputs the stem group's.
        INDArray w = initial.getParam("s2_proj_W");
        INDArray cut = ticket.getParam("s2_proj_W");
        int[] out = keep.kept("s2_proj");
        int[] in = keep.kept("stem");
        assertArrayEquals(new long[]{out.length, in.length, 1, 1}, cut.shape());
        for (int o = 0; o < out.length; o++) {
            for (int i = 0; i < in.length; i++) assertEquals(w.getFloat(out[o], in[i], 0, 0), cut.getFloat(o, i, 0, 0));
        }
        INDArray mean = initial.getLayer("s1_bn2").getParam("mean");
        INDArray cutMean = ticket.getLayer("s1_bn2").getParam("mean");
        for (int j = 0; j < in.length; j++) assertEquals(mean.getFloat(in[j]), cutMean.getFloat(j));
        assertEquals(0, ticket.getIterationCount(), "a fresh optimizer");

        StructuredPruning.Cut viaNetwork = StructuredPruning.cut(Network.of(trained), Network.of(initial), 0.5, Structure.CHANNELS);
        assertEquals(keep.describe(), viaNetwork.kept());
        assertArrayEquals(ticket.params().toFloatVector(), viaNetwork.network().params().toFloatVector(), "the stages' one entry");
        assertThrows(BadInputException.class, () -> StructuredPruning.cut(Network.of(trained), Network.of(initial), 0.5,
                Structure.NEURONS), "neurons are built for layer stacks only");
    }

    @Test
    void refusesVerticesItCannotNarrowNamingThem() {
        var merge = new NeuralNetConfiguration.Builder().seed(1).graphBuilder().addInputs("in")
                .setInputTypes(InputType.convolutional(8, 8, 1))
                .addLayer("a", conv(4), "in").addLayer("b", conv(4), "in")
                .addVertex("concat", new MergeVertex(), "a", "b")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "concat")
                .addLayer("out", output(), "pool").setOutputs("out").build();
        BadInputException e = assertThrows(BadInputException.class, () -> GraphChannelPruning.select(graph(merge), 0.5));
        assertTrue(e.getMessage().contains("vertex 'concat' (MergeVertex)"), e.getMessage());

        var depthwise = new NeuralNetConfiguration.Builder().seed(1).graphBuilder().addInputs("in")
                .setInputTypes(InputType.convolutional(8, 8, 1))
                .addLayer("a", conv(4), "in")
                .addLayer("dw", new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(1).nOut(4)
                        .convolutionMode(ConvolutionMode.Same).build(), "a")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "dw")
                .addLayer("out", output(), "pool").setOutputs("out").build();
        e = assertThrows(BadInputException.class, () -> GraphChannelPruning.select(graph(depthwise), 0.5));
        assertTrue(e.getMessage().contains("vertex 'dw' (DepthwiseConvolution2D)"), e.getMessage());

        GraphChannelSelection fromOther = GraphChannelPruning.select(graph(new NeuralNetConfiguration.Builder().seed(1)
                .graphBuilder().addInputs("in").setInputTypes(InputType.convolutional(8, 8, 1))
                .addLayer("a", conv(4), "in")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "a")
                .addLayer("out", output(), "pool").setOutputs("out").build()), 0.5);
        assertThrows(IllegalArgumentException.class, () -> GraphChannelPruning.apply(trained, fromOther));
        assertThrows(BadInputException.class, () -> GraphChannelPruning.select(trained, 1.5));
    }

    /** Each group's names sorted, the groups sorted by their first name: groups compared whatever the computing order. */
    private static List<List<String>> sorted(List<List<String>> groups) {
        return groups.stream().map(g -> g.stream().sorted().toList())
                .sorted(Comparator.comparing((List<String> g) -> g.get(0))).toList();
    }

    private static NativeConvolution conv(int out) {
        return (NativeConvolution) new NativeConvolution.Builder(3, 3).nOut(out).convolutionMode(ConvolutionMode.Same)
                .activation(Activation.RELU).build();
    }

    private static OutputLayer output() {
        return new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build();
    }

    private static ComputationGraph graph(org.deeplearning4j.nn.conf.ComputationGraphConfiguration conf) {
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        return g;
    }

    /**
     * resnet-tiny's parameter count with the given channels per group (in {@link #GROUPS}' order) on one-channel
     * 28x28 images and 10 classes: each convolution's kernel and bias, four per channel for each batch norm.
     */
    static long parameters(int[] k) {
        int a = k[0], b = k[1], c = k[2], d = k[3], e = k[4], f = k[5];
        long convs = (9L * 1 * a + a) + (9L * a * b + b) + (9L * b * a + a)            // stem, s1_conv1, s1_conv2
                + (9L * a * c + c) + (9L * c * d + d) + ((long) a * d + d)              // s2_conv1, s2_conv2, s2_proj
                + (9L * d * e + e) + (9L * e * f + f) + ((long) d * f + f);             // s3_conv1, s3_conv2, s3_proj
        long batchNorms = 4L * (a + b + a + c + d + d + e + f + f);
        return convs + batchNorms + (f * 10L + 10);
    }

    /** A copy of {@code net} in which the dropped channels' batch norms output zero: gamma and beta 0. */
    private static ComputationGraph silenced(ComputationGraph net, GraphChannelSelection keep) {
        ComputationGraph copy = net.clone();
        for (GraphChannelSelection.ChannelGroup group : keep.groups()) {
            for (String conv : group.convolutions()) {
                String bn = batchNormAfter(conv);
                for (int j = 0; j < group.width(); j++) {
                    if (Arrays.binarySearch(group.kept(), j) >= 0) continue;
                    copy.getLayer(bn).getParam("gamma").putScalar(j, 0);
                    copy.getLayer(bn).getParam("beta").putScalar(j, 0);
                }
            }
        }
        return copy;
    }

    /** resnet-tiny's naming: stem - stem_bn, sk_convN - sk_bnN, sk_proj - sk_proj_bn. */
    private static String batchNormAfter(String conv) {
        if (conv.equals("stem") || conv.endsWith("_proj")) return conv + "_bn";
        return conv.replace("_conv", "_bn");
    }

    /** The {@code k} channels with the largest |gamma| summed over the given batch norms, computed element by element. */
    private static int[] strongest(int k, String... batchNorms) {
        double[] strength = null;
        for (String bn : batchNorms) {
            double[] gamma = trained.getLayer(bn).getParam("gamma").toDoubleVector();
            if (strength == null) strength = new double[gamma.length];
            for (int j = 0; j < gamma.length; j++) strength[j] += Math.abs(gamma[j]);
        }
        double[] s = strength;
        int[] top = IntStream.range(0, s.length).boxed().sorted(Comparator.comparingDouble(j -> -s[j]))
                .limit(k).mapToInt(Integer::intValue).sorted().toArray();
        assertFalse(Arrays.stream(s).distinct().count() == 1, "training moved the batch norms' scales apart");
        return top;
    }
}
