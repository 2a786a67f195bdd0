package dev.squeeze.compress.quant;

import dev.squeeze.compress.network.FloatLinear;
import dev.squeeze.compress.network.Geometry;
import dev.squeeze.compress.network.Step;
import dev.squeeze.compress.network.Tensor;

import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A dense or convolutional layer with int8 weights and float activations (weight-only quantization, {@code quantize
 * --conv-activations float}): the layer computed in float, as {@link FloatLinear} computes it, with the weights
 * {@code q * scale} the int8 codes stand for and a float bias. That is what the exported graph computes:
 * the int8 weights Cast to float and multiplied by their scales (the same float values), into a float Conv (or
 * Gemm); ONNX Runtime folds the weights at load and runs its float kernel. The
 * file stores the weights as int8 (shared and packed like any int8 layer's); only the activations are not quantized.
 *
 * @param layer      the layer's index in the DL4J network
 * @param weights    int8 weights in DL4J's layout, with their scales
 * @param bias       float biases [outC]
 * @param activation the layer's activation, applied in float
 */
public record WeightOnlyInt8Linear(int layer, String label, Geometry geometry, QuantizedWeights weights, INDArray bias,
                                   IActivation activation) implements Step.Linear {

    public WeightOnlyInt8Linear {
        if (bias.length() != weights.channels()) {
            throw new IllegalArgumentException(bias.length() + " biases for " + weights.channels() + " channels");
        }
    }

    /** Quantizes a float layer's weights to int8 at {@code granularity}; the bias and the activations stay float. */
    public static WeightOnlyInt8Linear quantize(FloatLinear f, Granularity granularity) {
        return new WeightOnlyInt8Linear(f.layer(), f.label(), f.geometry(),
                QuantizedWeights.quantize(f.weights(), f.geometry().outputChannelAxis(), granularity),
                f.bias().castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c'), f.activation());
    }

    /** The same layer with other int8 weights (shared ones, say). */
    public WeightOnlyInt8Linear withWeights(QuantizedWeights w) {
        return new WeightOnlyInt8Linear(layer, label, geometry, w, bias, activation);
    }

    /** The float layer this computes as: the dequantized weights, the bias, the activation. */
    public FloatLinear asFloat() {
        return new FloatLinear(layer, label, geometry, weights.dequantized(), bias, activation);
    }

    @Override
    public Tensor apply(Tensor in) {
        return asFloat().apply(in);
    }

    @Override
    public long parameterCount() {
        return weights.values().length + bias.length();
    }

    @Override
    public long nonzeroParameterCount() {
        return asFloat().nonzeroParameterCount();
    }

    @Override
    public String describe() {
        return label + " int8 weights (" + weights.granularity().label() + "), float activations";
    }
}
