package dev.squeeze.models.zoo.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;
import java.util.Map;

/**
 * A 2D convolution layer configuration: DL4J's {@link ConvolutionLayer} in every respect (parameters
 * {@code W} {@code [nOut, nIn, kH, kW]} and {@code b} {@code [1, nOut]} in the flat parameter vector, same
 * initialisation, shapes, JSON fields, ONNX-export view) except that the layer it instantiates computes the
 * convolution with libnd4j's native {@code conv2d}/{@code conv2d_bp} ops (oneDNN in the {@code -onednn}
 * build) instead of DL4J's im2col + GEMM path, which is about 4x slower here (see BENCHMARKS.md).
 *
 * <p>Serialises through Jackson like any DL4J layer ({@code @class} property); the no-argument constructor
 * is for that.
 */
public class NativeConvolution extends ConvolutionLayer {

    /** For Jackson. */
    public NativeConvolution() {
        super();
    }

    protected NativeConvolution(Builder builder) {
        super(builder);
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> trainingListeners,
                             int layerIndex, INDArray layerParamsView, boolean initializeParams,
                             DataType networkDataType) {
        LayerValidation.assertNInNOutSet("NativeConvolution", getLayerName(), layerIndex, getNIn(), getNOut());
        NativeConvolutionLayer ret = new NativeConvolutionLayer(conf, networkDataType);
        ret.setListeners(trainingListeners);
        ret.setIndex(layerIndex);
        ret.setParamsViewArray(layerParamsView);
        Map<String, INDArray> paramTable = initializer().init(conf, layerParamsView, initializeParams);
        ret.setParamTable(paramTable);
        ret.setConf(conf);
        return ret;
    }

    @Override
    public NativeConvolution clone() {
        return (NativeConvolution) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && super.equals(o);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + NativeConvolution.class.getName().hashCode();
    }

    /**
     * Same options as {@link ConvolutionLayer.Builder}; builds a {@link NativeConvolution}. One default differs:
     * {@code cudnnAllowFallback} is false, so an error in the native op is raised instead of being logged and
     * silently replaced by DL4J's much slower path for the rest of the run.
     */
    public static class Builder extends ConvolutionLayer.Builder {

        public Builder(int... kernelSize) {
            super(kernelSize);
            cudnnAllowFallback(false);
        }

        public Builder() {
            super();
            cudnnAllowFallback(false);
        }

        @Override
        @SuppressWarnings("unchecked")
        public NativeConvolution build() {
            ConvolutionUtils.validateConvolutionModePadding(convolutionMode, padding);
            ConvolutionUtils.validateCnnKernelStridePadding(kernelSize, stride, padding);
            return new NativeConvolution(this);
        }
    }
}
