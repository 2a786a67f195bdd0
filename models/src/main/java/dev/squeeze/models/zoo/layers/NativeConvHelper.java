package dev.squeeze.models.zoo.layers;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdDataAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdFilterAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.FwdAlgo;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Collections;
import java.util.Map;

/**
 * Runs a DL4J {@code ConvolutionLayer}'s forward and backward pass as libnd4j's native {@code conv2d} and
 * {@code conv2d_bp} ops, which the {@code -onednn} build of nd4j-native executes with oneDNN (float) and
 * libnd4j's own kernels otherwise (double, or a backend without oneDNN).
 *
 * <p>This is what DL4J's own {@code MKLDNNConvHelper} does; DL4J 1.0.0-M2.1 never installs that helper on
 * CPU because its availability check ({@code BaseMKLDNNHelper.mklDnnEnabled}) reflects on
 * {@code org.nd4j.nativeblas.Nd4jCpu$Environment}, a class that moved to
 * {@code org.nd4j.linalg.cpu.nativecpu.bindings}; the failed lookup disables it for good. Unlike that
 * helper this one also accepts double precision, so gradient checks exercise the same code path.
 */
final class NativeConvHelper implements ConvolutionHelper {

    @Override
    public boolean checkSupported() {
        return true;
    }

    @Override
    public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                              AlgoMode mode, FwdAlgo fwdAlgo, ConvolutionMode convolutionMode, int[] dilation,
                              CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
        if (!supported(input, weights)) return null;   // the layer falls back to its im2col path
        boolean nchw = format == CNN2DFormat.NCHW;
        int inH = (int) input.size(nchw ? 2 : 1);
        int inW = (int) input.size(nchw ? 3 : 2);
        int[] outSize;
        if (convolutionMode == ConvolutionMode.Same) {
            outSize = ConvolutionUtils.getOutputSize(input, kernel, strides, null, convolutionMode, dilation, format);
            pad = ConvolutionUtils.getSameModeTopLeftPadding(outSize, new int[]{inH, inW}, kernel, strides, dilation);
        } else {
            outSize = ConvolutionUtils.getOutputSize(input, kernel, strides, pad, convolutionMode, dilation, format);
        }
        long outDepth = weights.size(0);
        long[] outShape = nchw ? new long[]{input.size(0), outDepth, outSize[0], outSize[1]}
                : new long[]{input.size(0), outSize[0], outSize[1], outDepth};
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(), outShape, 'c');

        DynamicCustomOp.DynamicCustomOpsBuilder op = DynamicCustomOp.builder("conv2d");
        if (bias == null) op.addInputs(input, weights);
        else op.addInputs(input, weights, bias);
        op.addOutputs(out).addIntegerArguments(intArgs(kernel, strides, pad, dilation, convolutionMode, format));
        Nd4j.exec(op.build());
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias, INDArray delta,
                                                     int[] kernel, int[] strides, int[] pad, INDArray biasGradView,
                                                     INDArray weightGradView, IActivation afn, AlgoMode mode,
                                                     BwdFilterAlgo bwdFilterAlgo, BwdDataAlgo bwdDataAlgo,
                                                     ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format,
                                                     LayerWorkspaceMgr workspaceMgr) {
        if (!supported(input, weights)) return null;
        boolean nchw = format == CNN2DFormat.NCHW;
        if (convolutionMode == ConvolutionMode.Same) {
            int hDim = nchw ? 2 : 1;
            int wDim = nchw ? 3 : 2;
            pad = ConvolutionUtils.getSameModeTopLeftPadding(new int[]{(int) delta.size(hDim), (int) delta.size(wDim)},
                    new int[]{(int) input.size(hDim), (int) input.size(wDim)}, kernel, strides, dilation);
        }
        INDArray epsNext = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, input.dataType(), input.shape(), 'c');

        DynamicCustomOp.DynamicCustomOpsBuilder op = DynamicCustomOp.builder("conv2d_bp");
        if (bias == null || biasGradView == null) {   // a layer without bias (DL4J may pass a dummy gradient array)
            bias = null;
            op.addInputs(input, weights, delta).addOutputs(epsNext, weightGradView);
        } else {
            op.addInputs(input, weights, bias, delta).addOutputs(epsNext, weightGradView, biasGradView);
        }
        op.addIntegerArguments(intArgs(kernel, strides, pad, dilation, convolutionMode, format));
        Nd4j.exec(op.build());

        Gradient g = new DefaultGradient();
        if (bias != null) g.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
        g.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView);
        return new Pair<>(g, epsNext);
    }

    @Override
    public INDArray activate(INDArray z, IActivation afn, boolean training) {
        return afn.getActivation(z, training);
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Collections.emptyMap();
    }

    private static boolean supported(INDArray input, INDArray weights) {
        DataType t = input.dataType();
        return (t == DataType.FLOAT || t == DataType.DOUBLE) && weights.dataType() == t;
    }

    /** libnd4j conv2d integer arguments; weight format 1 is DL4J's {@code [oC, iC, kH, kW]}. */
    private static int[] intArgs(int[] kernel, int[] strides, int[] pad, int[] dilation, ConvolutionMode mode,
                                  CNN2DFormat format) {
        return new int[]{kernel[0], kernel[1], strides[0], strides[1], pad[0], pad[1], dilation[0], dilation[1],
                mode == ConvolutionMode.Same ? 1 : 0, format == CNN2DFormat.NCHW ? 0 : 1, 1};
    }
}
