package dev.squeeze.compress.network;


import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A dense or convolutional layer in float: the layer as DL4J computes it at inference. Used for layers kept in
 * float ({@code --keep-float}) and, for every layer, to calibrate.
 *
 * @param layer      the layer's index in the DL4J network
 * @param weights    DL4J's layout: dense [nIn, nOut], convolution [outC, inC, kH, kW]
 * @param bias       [outC]
 * @param activation the layer's activation
 */
public record FloatLinear(int layer, String label, Geometry geometry, INDArray weights, INDArray bias,
                          IActivation activation) implements Step.Linear {

    @Override
    public Tensor apply(Tensor input) {
        INDArray x = input.real();
        long batch = x.size(0);
        INDArray rows = geometry.toRows(x.castTo(DataType.FLOAT));
        INDArray out = rows.mmul(geometry.gemmWeights(weights)).addiRowVector(bias.reshape(1, bias.length()));
        out = activation.getActivation(out, false);
        return Tensor.real(geometry.fromRows(out, batch));
    }

    @Override
    public long parameterCount() {
        return weights.length() + bias.length();
    }

    @Override
    public long nonzeroParameterCount() {
        return nonzero(weights) + nonzero(bias);
    }

    private static long nonzero(INDArray a) {
        long n = 0;
        for (float v : a.castTo(DataType.FLOAT).dup('c').data().asFloat()) if (v != 0f) n++;
        return n;
    }

    @Override
    public String describe() {
        return label + " float";
    }
}
