package dev.squeeze.compress.quant;

import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.network.FloatLinear;
import dev.squeeze.compress.network.Geometry;
import dev.squeeze.compress.network.Step;
import dev.squeeze.compress.network.Tensor;

import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A dense or convolutional layer in int8: uint8 input codes minus their zero point, times int8 weights, plus int32
 * biases, accumulated exactly (in float when the worst case stays below 2^24, else in double), then either
 * requantized to uint8 codes for the next layer (ReLU applied as a floor at the zero point) or, for the output
 * layer, scaled back to real logits and passed through the layer's activation in float.
 *
 * @param layer      the layer's index in the DL4J network
 * @param weights    int8 weights in DL4J's layout, with their scales
 * @param bias       int32 biases, scale inputScale * weightScale[c]
 * @param input      the quantization of the layer's input
 * @param output     the quantization of the layer's output, or null when the output stays real (the last layer)
 * @param relu       whether a hidden layer's activation is ReLU (else identity); ignored when output is null
 * @param activation the activation applied to real outputs (the last layer's softmax), or null
 */
public record Int8Linear(int layer, String label, Geometry geometry, QuantizedWeights weights, int[] bias,
                         ActivationQuant input, ActivationQuant output, boolean relu, IActivation activation)
        implements Step.Linear {

    public Int8Linear {
        if (bias.length != weights.channels()) {
            throw new IllegalArgumentException(bias.length + " biases for " + weights.channels() + " channels");
        }
        if (output == null && activation == null) throw new IllegalArgumentException("a real output needs an activation");
    }

    /**
     * Quantizes a float layer: weights symmetric int8 at {@code granularity}, biases to int32 at scale
     * inputScale * weightScale[c] (rounded half to even, as ONNX Runtime's quantizer does).
     */
    public static Int8Linear quantize(FloatLinear f, int channelAxis, Granularity granularity, ActivationQuant input,
                                      ActivationQuant output, boolean relu) {
        QuantizedWeights w = QuantizedWeights.quantize(f.weights(), channelAxis, granularity);
        int[] qb = biasCodes(f.bias().castTo(DataType.FLOAT).toFloatVector(), input.scale(), w.scales());
        return new Int8Linear(f.layer(), f.label(), f.geometry(), w, qb, input, output, relu,
                output == null ? f.activation() : null);
    }

    /**
     * int32 codes of float biases at scale {@code inputScale * weightScales[c]} (one weight scale per channel, or one
     * for all), rounded half to even as ONNX Runtime's quantizer does, saturated to int32.
     */
    public static int[] biasCodes(float[] bias, float inputScale, float[] weightScales) {
        int[] codes = new int[bias.length];
        for (int c = 0; c < bias.length; c++) {
            float scale = inputScale * weightScales[weightScales.length == 1 ? 0 : c]; // as biasScale
            double q = Math.rint(bias[c] / (double) scale);
            codes[c] = (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, q));
        }
        return codes;
    }

    /** The scale of channel {@code c}'s accumulator and bias: inputScale * weightScale[c], in float as ONNX has it. */
    static float biasScale(ActivationQuant input, QuantizedWeights w, int c) {
        return input.scale() * w.scale(c);
    }

    /**
     * The largest magnitude any accumulator can reach: max over channels of sum|w| * max|code - zeroPoint| + |bias|.
     * Every partial sum is an integer no larger, so float accumulation is exact below 2^24.
     */
    public double accumulatorBound() {
        int channels = weights.channels();
        double[] absSum = new double[channels];
        byte[] v = weights.values();
        for (int i = 0; i < v.length; i++) absSum[QuantizedWeights.channelOf(i, weights.shape(), weights.channelAxis())] += Math.abs(v[i]);
        int maxOffset = Math.max(input.zeroPoint() - ActivationQuant.QMIN, ActivationQuant.QMAX - input.zeroPoint());
        double bound = 0;
        for (int c = 0; c < channels; c++) bound = Math.max(bound, absSum[c] * maxOffset + Math.abs((double) bias[c]));
        return bound;
    }

    /** Whether accumulation runs in float (exact by {@link #accumulatorBound()}) rather than double. */
    public boolean accumulatesInFloat() {
        return accumulatorBound() < Int8Kernels.FLOAT_EXACT_LIMIT;
    }

    @Override
    public Tensor apply(Tensor in) {
        INDArray centered = in.codes(input).sub(input.zeroPoint());
        long batch = centered.size(0);
        DataType precision = accumulatesInFloat() ? DataType.FLOAT : DataType.DOUBLE;
        INDArray rows = geometry.toRows(centered).castTo(precision);
        INDArray acc = rows.mmul(geometry.gemmWeights(weights.integers()).castTo(precision))
                .addiRowVector(Nd4j.createFromArray(bias).castTo(precision).reshape(1, bias.length));
        if (output != null) {
            INDArray codes = Int8Kernels.requantize(acc, multipliers(), output.zeroPoint(), relu ? output.zeroPoint() : 0);
            return new Tensor(geometry.fromRows(codes, batch), output);
        }
        INDArray logits = acc.castTo(DataType.DOUBLE).muliRowVector(accumulatorScales()).castTo(DataType.FLOAT);
        return Tensor.real(geometry.fromRows(activation.getActivation(logits, false), batch));
    }

    /** Per channel, inputScale * weightScale[c] / outputScale, as a DOUBLE row vector. */
    INDArray multipliers() {
        double[] m = new double[bias.length];
        for (int c = 0; c < m.length; c++) m[c] = (double) biasScale(input, weights, c) / output.scale();
        return Nd4j.createFromArray(m).reshape(1, m.length);
    }

    private INDArray accumulatorScales() {
        double[] s = new double[bias.length];
        for (int c = 0; c < s.length; c++) s[c] = biasScale(input, weights, c);
        return Nd4j.createFromArray(s).reshape(1, s.length);
    }

    @Override
    public long parameterCount() {
        return weights.values().length + bias.length;
    }

    @Override
    public long nonzeroParameterCount() {
        long n = 0;
        for (byte b : weights.values()) if (b != 0) n++;
        for (int b : bias) if (b != 0) n++;
        return n;
    }

    @Override
    public String describe() {
        return label + " int8 (" + weights.granularity().label() + ")";
    }
}
