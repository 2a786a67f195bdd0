package dev.squeeze.compress.quant;

import dev.squeeze.compress.network.FloatLinear;
import dev.squeeze.compress.network.Geometry;
import dev.squeeze.compress.network.Step;
import dev.squeeze.compress.network.Tensor;

import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A dense layer with block-wise int4 weights and float activations (weight-only quantization): the input, real (or
 * codes of an int8 layer before it, dequantized), times the dequantized weights {@code q * scale} in float, plus the
 * float bias, then the layer's activation. That is what the exported graph computes: DequantizeLinear of the INT4
 * weights, MatMul, Add, the activation; ONNX Runtime fuses the first two into its MatMulNBits kernel.
 *
 * @param layer      the layer's index in the DL4J network
 * @param weights    int4 weights [nIn, nOut] with their block scales
 * @param bias       float biases [nOut]
 * @param activation the layer's activation, applied in float
 */
public record Int4Linear(int layer, String label, Int4Weights weights, INDArray bias, IActivation activation)
        implements Step.Linear {

    public Int4Linear {
        if (bias.length() != weights.outputs()) {
            throw new IllegalArgumentException(bias.length() + " biases for " + weights.outputs() + " outputs");
        }
    }

    /** Quantizes a float dense layer's weights to int4 in blocks of {@code blockSize}; the bias stays float. */
    public static Int4Linear quantize(FloatLinear f, int blockSize) {
        if (!(f.geometry() instanceof Geometry.Dense)) {
            throw new IllegalArgumentException("int4 weights are for dense layers, not " + f.describe());
        }
        return new Int4Linear(f.layer(), f.label(), Int4Weights.quantize(f.weights(), blockSize),
                f.bias().castTo(DataType.FLOAT).dup('c'), f.activation());
    }

    @Override
    public Geometry geometry() {
        return new Geometry.Dense();
    }

    @Override
    public Tensor apply(Tensor in) {
        INDArray x = in.real().castTo(DataType.FLOAT);
        INDArray out = x.mmul(weights.dequantized()).addiRowVector(bias.reshape(1, bias.length()));
        return Tensor.real(activation.getActivation(out, false));
    }

    @Override
    public long parameterCount() {
        return weights.values().length + bias.length();
    }

    @Override
    public long nonzeroParameterCount() {
        long n = 0;
        for (byte b : weights.values()) if (b != 0) n++;
        for (float b : bias.data().asFloat()) if (b != 0f) n++;
        return n;
    }

    @Override
    public String describe() {
        return label + " int4 (blocks of " + weights.blockSize() + ")";
    }
}
