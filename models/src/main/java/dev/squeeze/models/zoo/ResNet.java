package dev.squeeze.models.zoo;

import dev.squeeze.models.zoo.layers.NativeBatchNormalization;
import dev.squeeze.models.zoo.layers.NativeConvolution;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A small residual network (He et al. 2016, the CIFAR form 6n+2 with n = 1): a 3x3 stem convolution, then one
 * residual block per stage (conv 3x3 - batch norm - ReLU - conv 3x3 - batch norm, added to the block's input, then
 * ReLU), the first stage at full resolution and each later one halving it with stride 2 (its shortcut a 1x1 stride-2
 * convolution with batch norm, since the width changes too), global average pooling and a softmax layer. With three
 * stages that is 8 weighted layers on the main path: {@code resnet-8}. A DL4J {@code ComputationGraph}; convolutions
 * have an identity activation and their batch norm and ReLU follow as their own vertices, the form export and int8
 * fold.
 *
 * <p>Vertex names: {@code stem}, {@code stem_bn}, {@code stem_relu}; per stage k (1-based) {@code sk_conv1},
 * {@code sk_bn1}, {@code sk_relu1}, {@code sk_conv2}, {@code sk_bn2}, {@code sk_proj} and {@code sk_proj_bn} (when the
 * shape changes), {@code sk_add}, {@code sk_relu}; then {@code pool} and {@code output}.
 *
 * @param widths channels of each stage, e.g. {16, 32, 64}
 */
public record ResNet(String name, String description, int[] widths) implements ModelArchitecture {

    @Override
    public Network build(BuildSettings settings) {
        ComputationGraph graph = new ComputationGraph(configuration(settings));
        graph.init();
        return Network.of(graph);
    }

    public ComputationGraphConfiguration configuration(BuildSettings settings) {
        return configuration(settings, true);
    }

    /**
     * @param nativeBatchNorm true (the zoo's form) for {@link NativeBatchNormalization}, false for DL4J's own
     *                        {@code BatchNormalization}, to measure against
     */
    public ComputationGraphConfiguration configuration(BuildSettings settings, boolean nativeBatchNorm) {
        long[] image = settings.imageShape();   // {channels, height, width}
        var g = new NeuralNetConfiguration.Builder()
                .seed(settings.seed())
                .updater(new Adam(settings.learningRate()))
                .weightInit(Inits.choose(settings, Activation.RELU))
                .trainingWorkspaceMode(WorkspaceMode.ENABLED)
                .inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                .cacheMode(CacheMode.NONE)
                .graphBuilder()
                .addInputs("input")
                .setInputTypes(InputType.convolutionalFlat(image[1], image[2], image[0]));
        String x = convBnRelu(g, "stem", "input", widths[0], 3, 1, "stem_bn", "stem_relu", nativeBatchNorm);
        int in = widths[0];
        for (int s = 0; s < widths.length; s++) {
            String p = "s" + (s + 1);
            int stride = s == 0 ? 1 : 2;
            int out = widths[s];
            String a = convBnRelu(g, p + "_conv1", x, out, 3, stride, p + "_bn1", p + "_relu1", nativeBatchNorm);
            g.addLayer(p + "_conv2", conv(out, 3, 1), a);
            g.addLayer(p + "_bn2", batchNorm(out, nativeBatchNorm), p + "_conv2");
            String shortcut = x;
            if (stride != 1 || in != out) {
                g.addLayer(p + "_proj", conv(out, 1, stride), x);
                g.addLayer(p + "_proj_bn", batchNorm(out, nativeBatchNorm), p + "_proj");
                shortcut = p + "_proj_bn";
            }
            g.addVertex(p + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), p + "_bn2", shortcut);
            g.addLayer(p + "_relu", new ActivationLayer(Activation.RELU), p + "_add");
            x = p + "_relu";
            in = out;
        }
        g.addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), x);
        g.addLayer("output", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(settings.numClasses())
                .activation(Activation.SOFTMAX).weightInit(Inits.choose(settings, Activation.SOFTMAX)).build(), "pool");
        g.setOutputs("output");
        return g.build();
    }

    private static String convBnRelu(ComputationGraphConfiguration.GraphBuilder g, String name, String from, int out,
                                     int kernel, int stride, String bn, String relu, boolean nativeBatchNorm) {
        g.addLayer(name, conv(out, kernel, stride), from);
        g.addLayer(bn, batchNorm(out, nativeBatchNorm), name);
        g.addLayer(relu, new ActivationLayer(Activation.RELU), bn);
        return relu;
    }

    private static BatchNormalization batchNorm(int out, boolean nativeBatchNorm) {
        return (nativeBatchNorm ? new NativeBatchNormalization.Builder() : new BatchNormalization.Builder()).nOut(out).build();
    }

    private static NativeConvolution conv(int out, int kernel, int stride) {
        return (NativeConvolution) new NativeConvolution.Builder(kernel, kernel).nOut(out).stride(stride, stride)
                .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).build();
    }
}
