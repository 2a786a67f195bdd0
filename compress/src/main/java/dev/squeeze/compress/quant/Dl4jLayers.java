package dev.squeeze.compress.quant;

import dev.squeeze.models.BadInputException;
import dev.squeeze.models.zoo.layers.NativeConvolution;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
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

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Reads a DL4J network into the steps of an all-float {@link QuantizedNetwork}: dense, output and 2-D
 * convolution layers (NCHW, dilation 1), max and average pooling, the reshapes between them; dropout vanishes at
 * inference. Anything else is refused with the layer's index and type, never approximated.
 */
public final class Dl4jLayers {
    private static final Set<Class<?>> CONVOLUTIONS = Set.of(ConvolutionLayer.class, NativeConvolution.class);
    static final String SUPPORTED = "dense, output, 2-D convolution, max/average pooling and dropout layers";

    private Dl4jLayers() {
    }

    /** @param inputShape one example's shape as the model file records it, e.g. [784] or [1, 28, 28] */
    public static QuantizedNetwork toFloatNetwork(MultiLayerNetwork net, long[] inputShape) {
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
                long h = same ? (shape[1] + st[0] - 1) / st[0] : (shape[1] + 2L * p[0] - k[0]) / st[0] + 1;
                long w = same ? (shape[2] + st[1] - 1) / st[1] : (shape[2] + 2L * p[1] - k[1]) / st[1] + 1;
                shape = new long[]{shape[0], h, w};
            } else {
                throw refuse(i, layer, "int8 quantization supports " + SUPPORTED);
            }
        }
        return new QuantizedNetwork(inputShape, steps);
    }

    private static org.nd4j.linalg.api.ndarray.INDArray bias(MultiLayerNetwork net, int i, int channels) {
        var b = net.getLayer(i).getParam("b");
        return b == null ? org.nd4j.linalg.factory.Nd4j.zeros(channels) : b.dup('c').reshape(channels);
    }

    /** The layer's activation; a fine-tuned (QAT) network's fake quantization is the int8 step's job, not its activation's. */
    private static IActivation activation(BaseLayer layer) {
        return FakeQuantActivation.unwrap(layer.getActivationFn());
    }

    static BadInputException refuse(int index, Layer layer, String why) {
        String given = layer.getLayerName();
        String name = given == null || given.equals("layer" + index) ? "" : " '" + given + "'";
        return new BadInputException("layer " + index + name + " (" + layer.getClass().getSimpleName()
                + ") cannot be quantized: " + why);
    }
}
