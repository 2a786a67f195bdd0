package dev.squeeze.models.zoo;

import dev.squeeze.models.zoo.layers.NativeConvolution;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * LeNet-5 (LeCun et al. 1998) with ReLU and max pooling: conv 5x5x6 (same padding) - max-pool 2 -
 * conv 5x5x16 - max-pool 2 - dense 120 - dense 84 - softmax. Flat inputs are reshaped by the
 * preprocessor {@code setInputType(convolutionalFlat)} adds. Layer indices: 0 conv, 1 pool, 2 conv, 3 pool,
 * 4 dense, 5 dense, 6 output; so {@code getParam("0_W")} is the first conv's {@code [6, 1, 5, 5]} kernel.
 *
 * <p>The convolutions are {@link NativeConvolution}: DL4J's ConvolutionLayer computing with libnd4j's
 * native conv2d ops (oneDNN), about 4x faster on CPU than DL4J's im2col path, identical parameters and
 * results otherwise (see BENCHMARKS.md).
 */
public final class LeNet5 implements ModelArchitecture.LayerStack {

    /**
     * How the network is built; {@link #DEFAULT} is what the zoo uses, the others exist to measure against.
     *
     * @param nativeConv true for {@link NativeConvolution}, false for DL4J's own ConvolutionLayer
     * @param format     activation layout inside the network
     * @param workspaces DL4J workspace mode for training and inference
     * @param cacheMode  DL4J cache mode (keeps forward results for the backward pass)
     */
    public record Options(boolean nativeConv, CNN2DFormat format, WorkspaceMode workspaces, CacheMode cacheMode) {
        public static final Options DEFAULT = new Options(true, CNN2DFormat.NCHW, WorkspaceMode.ENABLED, CacheMode.NONE);
    }

    @Override
    public String name() {
        return "lenet-5";
    }

    @Override
    public String description() {
        return "LeNet-5 CNN: conv5x5x6-pool-conv5x5x16-pool-120-84-10, ReLU, max pooling";
    }

    @Override
    public MultiLayerConfiguration configuration(BuildSettings settings) {
        return configuration(settings, Options.DEFAULT);
    }

    public MultiLayerConfiguration configuration(BuildSettings settings, Options options) {
        long[] image = settings.imageShape();   // {channels, height, width}
        Activation relu = Activation.RELU;
        return new NeuralNetConfiguration.Builder()
                .seed(settings.seed())
                .updater(new Adam(settings.learningRate()))
                .trainingWorkspaceMode(options.workspaces())
                .inferenceWorkspaceMode(options.workspaces())
                .cacheMode(options.cacheMode())
                .list()
                .layer(conv(options, 6, ConvolutionMode.Same).activation(relu)
                        .weightInit(Inits.choose(settings, relu)).build())
                .layer(pool(options))
                .layer(conv(options, 16, ConvolutionMode.Truncate).activation(relu)
                        .weightInit(Inits.choose(settings, relu)).build())
                .layer(pool(options))
                .layer(new DenseLayer.Builder().nOut(120).activation(relu).weightInit(Inits.choose(settings, relu)).build())
                .layer(new DenseLayer.Builder().nOut(84).activation(relu).weightInit(Inits.choose(settings, relu)).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(settings.numClasses())
                        .activation(Activation.SOFTMAX).weightInit(Inits.choose(settings, Activation.SOFTMAX)).build())
                .setInputType(InputType.convolutionalFlat(image[1], image[2], image[0]))
                .build();
    }

    private static ConvolutionLayer.Builder conv(Options options, int filters, ConvolutionMode mode) {
        ConvolutionLayer.Builder b = options.nativeConv() ? new NativeConvolution.Builder(5, 5) : new ConvolutionLayer.Builder(5, 5);
        b.nOut(filters).stride(1, 1).convolutionMode(mode).dataFormat(options.format());
        return b;
    }

    private static SubsamplingLayer pool(Options options) {
        return new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                .dataFormat(options.format()).build();
    }
}
