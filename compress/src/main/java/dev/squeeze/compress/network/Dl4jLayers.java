package dev.squeeze.compress.network;

import dev.squeeze.core.BadInputException;
import dev.squeeze.models.zoo.Network;
import dev.squeeze.models.zoo.layers.NativeConvolution;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Reads a DL4J network into the steps of an all-float {@link StepNetwork}: dense, output and 2-D
 * convolution layers (NCHW, dilation 1), max and average pooling, the reshapes between them; dropout vanishes at
 * inference. Anything else is refused with the layer's index and type, never approximated.
 */
public final class Dl4jLayers {
    private static final Set<Class<?>> CONVOLUTIONS = Set.of(ConvolutionLayer.class, NativeConvolution.class);
    static final String SUPPORTED = "dense, output, 2-D convolution, max/average pooling, batch normalization (folded), activation and dropout layers";

    private Dl4jLayers() {
    }

    /** @param inputShape one example's shape as the model file records it, e.g. [784] or [1, 28, 28] */
    public static StepNetwork toFloatNetwork(Network network, long[] inputShape) {
        if (network instanceof Network.Stack s) return toFloatNetwork(s.net(), inputShape);
        throw new BadInputException("int8 and ONNX export do not read ComputationGraphs yet; this model is a "
                + network.kind());
    }

    /** @param inputShape one example's shape as the model file records it, e.g. [784] or [1, 28, 28] */
    public static StepNetwork toFloatNetwork(MultiLayerNetwork net, long[] inputShape) {
        MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
        List<Step> steps = new ArrayList<>();
        long[] shape = {Arrays.stream(inputShape).reduce(1, (a, b) -> a * b)};   // inputs arrive flat
        for (int i = 0; i < net.getnLayers(); i++) {
            Layer layer = conf.getConf(i).getLayer();
            InputPreProcessor pre = conf.getInputPreProcess(i);
            if (pre instanceof FeedForwardToCnnPreProcessor p) {
                shape = new long[]{p.getNumChannels(), p.getInputHeight(), p.getInputWidth()};
                steps.add(new Step.Reshape(shape));
            } else if (pre instanceof CnnToFeedForwardPreProcessor p) {
                if (p.getFormat() != CNN2DFormat.NCHW) throw refuse(i, layer, "its input is NHWC; only NCHW is supported");
                shape = new long[]{p.getNumChannels() * p.getInputHeight() * p.getInputWidth()};
                steps.add(new Step.Reshape(shape));
            } else if (pre != null) {
                throw refuse(i, layer, "its input preprocessor " + pre.getClass().getSimpleName() + " is not supported");
            }
            if (layer instanceof DropoutLayer) continue;
            if (layer instanceof ActivationLayer a) {
                Step previous = steps.isEmpty() ? null : steps.get(steps.size() - 1);
                if (!(previous instanceof FloatLinear f) || !(f.activation() instanceof org.nd4j.linalg.activations.impl.ActivationIdentity)) {
                    throw refuse(i, layer, "an activation layer is supported right after a dense, convolutional or batch "
                            + "normalization layer whose own activation is identity");
                }
                steps.set(steps.size() - 1, new FloatLinear(f.layer(), f.label() + " + " + a.getActivationFn(), f.geometry(),
                        f.weights(), f.bias(), WrappedActivation.unwrap(a.getActivationFn())));
                continue;
            }
            if (layer instanceof BatchNormalization bn) {
                steps.set(steps.size() - 1, foldBatchNorm(net, i, bn, steps.isEmpty() ? null : steps.get(steps.size() - 1)));
                continue;
            }
            if (CONVOLUTIONS.contains(layer.getClass())) {
                ConvolutionLayer c = (ConvolutionLayer) layer;
                if (c.getCnn2dDataFormat() != CNN2DFormat.NCHW) throw refuse(i, layer, "it is NHWC; only NCHW is supported");
                if (c.getDilation()[0] != 1 || c.getDilation()[1] != 1) throw refuse(i, layer, "it is dilated");
                if (shape.length != 3) throw refuse(i, layer, "its input is not an image");
                boolean same = c.getConvolutionMode() == ConvolutionMode.Same;
                var g = new Geometry.Conv(c.getKernelSize()[0], c.getKernelSize()[1], c.getStride()[0], c.getStride()[1],
                        c.getPadding()[0], c.getPadding()[1], same, (int) c.getNIn(), (int) c.getNOut(), (int) shape[1],
                        (int) shape[2]);
                String label = String.format("%d conv %dx%d %d->%d", i, g.kernelH(), g.kernelW(), g.inChannels(), g.outChannels());
                steps.add(new FloatLinear(i, label, g, net.getLayer(i).getParam("W").dup('c'), bias(net, i, g.outChannels()),
                        activation(c)));
                shape = new long[]{g.outChannels(), g.outH(), g.outW()};
            } else if (layer instanceof DenseLayer || layer.getClass() == OutputLayer.class) {
                BaseLayer d = (BaseLayer) layer;
                var ff = (org.deeplearning4j.nn.conf.layers.FeedForwardLayer) layer;
                if (shape.length != 1) throw refuse(i, layer, "its input is not flat");
                String kind = layer instanceof DenseLayer ? "dense" : "output";
                String label = String.format("%d %s %d->%d", i, kind, ff.getNIn(), ff.getNOut());
                steps.add(new FloatLinear(i, label, new Geometry.Dense(), net.getLayer(i).getParam("W").dup('c'),
                        bias(net, i, (int) ff.getNOut()), activation(d)));
                shape = new long[]{ff.getNOut()};
            } else if (layer.getClass() == SubsamplingLayer.class) {
                SubsamplingLayer s = (SubsamplingLayer) layer;
                if (s.getPoolingType() != PoolingType.MAX && s.getPoolingType() != PoolingType.AVG) {
                    throw refuse(i, layer, "it pools by " + s.getPoolingType() + "; only MAX and AVG are supported");
                }
                if (s.getCnn2dDataFormat() != CNN2DFormat.NCHW) throw refuse(i, layer, "it is NHWC; only NCHW is supported");
                if (s.getDilation()[0] != 1 || s.getDilation()[1] != 1) throw refuse(i, layer, "it is dilated");
                if (shape.length != 3) throw refuse(i, layer, "its input is not an image");
                boolean same = s.getConvolutionMode() == ConvolutionMode.Same;
                int[] k = s.getKernelSize(), st = s.getStride(), p = s.getPadding();
                steps.add(new Step.Pooling(s.getPoolingType() == PoolingType.MAX, k[0], k[1], st[0], st[1], p[0], p[1],
                        same, s.isAvgPoolIncludePadInDivisor()));
                shape = new long[]{shape[0], Geometry.outSize((int) shape[1], k[0], st[0], p[0], same),
                        Geometry.outSize((int) shape[2], k[1], st[1], p[1], same)};
            } else {
                throw refuse(i, layer, "Squeeze reads " + SUPPORTED);
            }
        }
        return new StepNetwork(inputShape, steps);
    }

    /**
     * Batch normalization at inference is a per-channel affine map, y = g (x - mean) + beta with
     * g = gamma / sqrt(var + eps); right after a layer with an identity activation it folds into that layer's
     * weights (scaled by g per output channel) and bias ((b - mean) g + beta), and the batch norm's own activation
     * becomes the layer's.
     */
    private static FloatLinear foldBatchNorm(MultiLayerNetwork net, int i, BatchNormalization bn, Step previous) {
        if (!(previous instanceof FloatLinear f)) {
            throw refuse(i, bn, "batch normalization folds only into a dense or convolutional layer right before it");
        }
        if (!(f.activation() instanceof org.nd4j.linalg.activations.impl.ActivationIdentity)) {
            throw refuse(i, bn, "it follows layer " + f.label() + "'s " + f.activation() + " activation, so it cannot be "
                    + "folded into that layer; give that layer an identity activation (and the batch norm the activation)");
        }
        var layer = net.getLayer(i);
        int channels = (int) f.bias().length();
        double[] mean = host(layer.getParam("mean"));
        double[] std = new double[channels];
        INDArray var = layer.getParam("var");
        double[] source = host(var != null ? var : layer.getParam("log10stdev"));
        for (int c = 0; c < channels; c++) std[c] = var != null ? Math.sqrt(source[c] + bn.getEps()) : Math.pow(10, source[c]);
        double[] gamma = bn.isLockGammaBeta() ? filled(channels, bn.getGamma()) : host(layer.getParam("gamma"));
        double[] beta = bn.isLockGammaBeta() ? filled(channels, bn.getBeta()) : host(layer.getParam("beta"));
        double[] g = new double[channels];
        double[] b = host(f.bias());
        for (int c = 0; c < channels; c++) {
            g[c] = gamma[c] / std[c];
            b[c] = (b[c] - mean[c]) * g[c] + beta[c];
        }
        int axis = f.geometry().outputChannelAxis();
        INDArray folded = org.nd4j.linalg.factory.Broadcast.mul(f.weights().castTo(DataType.DOUBLE),
                Nd4j.createFromArray(g), f.weights().castTo(DataType.DOUBLE).ulike(), axis);
        INDArray bias = Nd4j.createFromArray(b);
        // DL4J's BatchNormalization layer does not apply the activation its configuration names (measured: its
        // output is the affine map alone), so neither does the folded layer; an ActivationLayer after it does.
        return new FloatLinear(f.layer(), f.label() + " + batchnorm", f.geometry(), folded.castTo(DataType.FLOAT),
                bias.castTo(DataType.FLOAT), new org.nd4j.linalg.activations.impl.ActivationIdentity());
    }

    private static double[] host(INDArray a) {
        return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
    }

    private static double[] filled(int n, double value) {
        double[] out = new double[n];
        java.util.Arrays.fill(out, value);
        return out;
    }

    private static org.nd4j.linalg.api.ndarray.INDArray bias(MultiLayerNetwork net, int i, int channels) {
        var b = net.getLayer(i).getParam("b");
        return b == null ? org.nd4j.linalg.factory.Nd4j.zeros(channels) : b.dup('c').reshape(channels);
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
