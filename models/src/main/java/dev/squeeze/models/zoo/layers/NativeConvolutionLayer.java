package dev.squeeze.models.zoo.layers;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * DL4J's convolution layer implementation with {@link NativeConvHelper} installed as its helper: DL4J
 * keeps doing the bookkeeping (input validation, dropout, activation and its derivative, gradient
 * views, workspaces) and hands the convolution itself and its backward pass to the native ops.
 */
public class NativeConvolutionLayer extends ConvolutionLayer {

    public NativeConvolutionLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
        this.helper = new NativeConvHelper();
    }
}
