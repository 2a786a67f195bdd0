package dev.squeeze.compress.onnx;

import ai.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.network.FloatLinear;
import dev.squeeze.compress.network.Geometry;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.compress.network.Step;
import dev.squeeze.compress.quant.Int4Linear;
import dev.squeeze.compress.quant.WeightOnlyInt8Linear;
import dev.squeeze.compress.quant.Int8Linear;
import dev.squeeze.compress.quant.QuantizedWeights;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Normalization;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationHardSigmoid;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftPlus;
import org.nd4j.linalg.activations.impl.ActivationSoftSign;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@link StepNetwork} as an ONNX graph. Layers in float become Gemm/Conv with float weights; int8 layers
 * become QDQ: DequantizeLinear of int8 per-channel weights and int32 biases and of the uint8 input codes, the float
 * operator, and QuantizeLinear of its output, which ONNX Runtime fuses into QGemm/QLinearConv. Codes flow between
 * layers as uint8 (max pooling and flattening act on them directly). A residual block is its two paths and an Add
 * (int8: of the dequantized inputs, quantized to the block's output). The input is raw features ([batch, ...shape],
 * pixel values 0-255 for images): the model's normalization is the graph's first two nodes. Outputs: {@code logits}
 * and {@code probabilities}, written by the nodes that compute them. Nodes have no names (their outputs tell them
 * apart; a name is about 12 bytes a node). A dense layer with 4-bit weights ({@link Int4Linear}) is DequantizeLinear of its INT4
 * weights in blocks (opset 21), MatMul, Add of its float bias, and its activation: float in and out, which ONNX Runtime
 * fuses into MatMulNBits. A layer with int8 weights and float activations ({@link WeightOnlyInt8Linear}) is its int8
 * weights, Cast and multiplied by their scales, into a float Conv or Gemm.
 */
public final class OnnxExporter {
    public static final String INPUT = "input";
    public static final String LOGITS = "logits";
    public static final String PROBABILITIES = "probabilities";

    private OnnxExporter() {
    }

    /** A value between nodes: float, or uint8 codes under {@code quant}; {@code shape} is one example's. */
    private record Value(String name, ActivationQuant quant, long[] shape) {
        boolean quantized() {
            return quant != null;
        }
    }

    public static OnnxGraph graph(StepNetwork net, Normalization normalization, String name) {
        OnnxGraph g = new OnnxGraph(name).unnamedNodes();
        long[] inputShape = net.inputShape();
        long features = Arrays.stream(inputShape).reduce(1, (a, b) -> a * b);
        String x = g.input(INPUT, DataType.FLOAT, batched(inputShape));
        if (normalization != null && normalization.featureSize() != features) {
            throw new IllegalArgumentException("normalization for " + normalization.featureSize() + " features, input has " + features);
        }
        if (normalization != null && standardizes(normalization)) {
            float[] inv = new float[normalization.featureSize()];
            for (int j = 0; j < inv.length; j++) inv[j] = 1f / normalization.std()[j];   // as Normalization.apply does
            x = g.mul(g.sub(x, perFeature(g, "normalization_mean", normalization.mean(), inputShape)),
                    perFeature(g, "normalization_inverse_std", inv, inputShape));
        }
        // The network's steps take flat rows, as DL4J's do (a convolutional net reshapes them first).
        Value v = new Value(inputShape.length > 1 ? g.flatten(x) : x, null, new long[]{features});
        List<Step> linear = net.linearSteps();
        if (linear.isEmpty()) throw new IllegalArgumentException("the network has no dense or convolutional layer");
        Writer writer = new Writer(g, linear.get(linear.size() - 1));
        writer.steps(net.steps(), v, true);
        if (writer.logits == null) throw new IllegalArgumentException("the last layer is inside a residual block");
        long classes = outShape(writer.last, new long[]{0})[0];
        g.output(LOGITS, writer.logits, DataType.FLOAT, -1, classes);
        g.output(PROBABILITIES, writer.probabilities, DataType.FLOAT, -1, classes);
        return g;
    }

    /** Writes steps one after another; the last layer's outputs become the graph's. */
    private static final class Writer {
        private final OnnxGraph g;
        private final Step last;
        private String logits;
        private String probabilities;

        Writer(OnnxGraph g, Step last) {
            this.g = g;
            this.last = last;
        }

        /** Writes {@code steps} from {@code v}; returns the value they leave. Stops after the last layer. */
        Value steps(List<Step> steps, Value v, boolean top) {
            for (Step step : steps) {
                if (step instanceof Step.Reshape r) {
                    // Reshape's leading -1 lets ONNX infer the batch.
                    String out = r.exampleShape().length == 1 ? g.flatten(v.name()) : g.reshape(v.name(), batched(r.exampleShape()));
                    v = new Value(out, v.quant(), r.exampleShape());
                } else if (step instanceof Step.Pooling p) {
                    v = pooling(g, p, v);
                } else if (step instanceof Step.GlobalPooling p) {
                    v = globalPooling(g, p, v);
                } else if (step instanceof Step.Residual r) {
                    v = residual(r, v);
                } else {
                    String pre = step instanceof Int8Linear q ? int8Linear(g, q, v)
                            : step instanceof Int4Linear q4 ? int4Linear(g, q4, v)
                            : step instanceof WeightOnlyInt8Linear w8 ? weightOnlyInt8Linear(g, w8, v)
                            : floatLinear(g, (FloatLinear) step, v);
                    IActivation activation = step instanceof Int8Linear q ? q.activation()
                            : step instanceof Int4Linear q4 ? q4.activation()
                            : step instanceof WeightOnlyInt8Linear w8 ? w8.activation()
                            : ((FloatLinear) step).activation();
                    long[] outShape = outShape(step, v.shape());
                    if (step == last) {
                        if (!top) return v;   // graph() refuses it
                        logits = pre;
                        probabilities = activation(g, activation, pre, step);
                        return v;
                    }
                    if (step instanceof Int8Linear q) {
                        String y = q.relu() ? g.relu(pre) : pre;
                        v = new Value(quantize(g, y, q.output()), q.output(), outShape);
                    } else {
                        v = new Value(activation(g, activation, pre, step), null, outShape);
                    }
                }
            }
            return v;
        }

        /**
         * The two paths from {@code in}, then Add. In int8, each input that is codes is dequantized, and the sum
         * (after Relu) quantized to the block's output: DequantizeLinear ×2, Add, Relu, QuantizeLinear, which ONNX
         * Runtime fuses into QLinearAdd when both inputs are codes (Relu dropped when the output's zero point is 0).
         */
        private Value residual(Step.Residual r, Value in) {
            Value main = steps(r.main(), in, false);
            Value shortcut = steps(r.shortcut(), in, false);
            String sum = g.add(real(main), real(shortcut));
            if (r.output() == null) return new Value(activation(g, r.activation(), sum, r), null, main.shape());
            String y = r.relu() ? g.relu(sum) : sum;
            return new Value(quantize(g, y, r.output()), r.output(), main.shape());
        }

        private String real(Value v) {
            return v.quantized() ? dequantize(g, v) : v.name();
        }
    }

    private static String floatLinear(OnnxGraph g, FloatLinear f, Value in) {
        String x = in.quantized() ? dequantize(g, in) : in.name();
        String w = g.floats(g.fresh("w"), f.weights().castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat(),
                f.weights().shape());
        String b = g.floats(g.fresh("b"), f.bias().castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat(),
                f.bias().length());
        return linear(g, f.geometry(), x, w, b);
    }

    /**
     * The int8 weights, Cast and multiplied by their scales ({@link QdqNodes#int8WeightAsFloat}), into the float Conv or
     * Gemm, with a float bias: ONNX Runtime folds the weights into a float initializer at load and runs the float
     * kernel on them, as on a float layer's.
     */
    private static String weightOnlyInt8Linear(OnnxGraph g, WeightOnlyInt8Linear q, Value in) {
        String x = in.quantized() ? dequantize(g, in) : in.name();
        QuantizedWeights w = q.weights();
        String weights = QdqNodes.int8WeightAsFloat(g, w.values(), w.shape(), w.scales(), q.geometry().outputChannelAxis());
        String b = g.floats(g.fresh("b"), q.bias().castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat(),
                q.bias().length());
        return linear(g, q.geometry(), x, weights, b);
    }

    private static String int8Linear(OnnxGraph g, Int8Linear q, Value in) {
        String codes;
        if (in.quantized() && in.quant().equals(q.input())) {
            codes = in.name();
        } else {
            codes = quantize(g, in.quantized() ? dequantize(g, in) : in.name(), q.input());
        }
        String x = QdqNodes.dequantize(g, codes, q.input());
        QuantizedWeights w = q.weights();
        QdqNodes.Int8Weight weights = QdqNodes.int8Weight(g, w.values(), w.shape(), w.scales(),
                q.geometry().outputChannelAxis(), !(q.geometry() instanceof Geometry.Conv));
        String bias = QdqNodes.int32Bias(g, q.bias(), q.input().scale(), weights);
        return linear(g, q.geometry(), x, weights.dequantized(), bias);
    }

    /**
     * DequantizeLinear (INT4, blocks along K), MatMul, Add: the pattern ONNX Runtime fuses into MatMulNBits. The input
     * goes in as [batch, 1, K] and the result comes back as [batch, N]: ONNX Runtime 1.29 turns a MatMul of a 2-D input
     * followed by an Add into a Gemm before its QDQ rules run, and does not fuse a Gemm into MatMulNBits; it leaves a
     * MatMul of a 3-D input with a symbolic batch alone. The two Reshapes copy nothing.
     */
    private static String int4Linear(OnnxGraph g, Int4Linear q, Value in) {
        String x = in.quantized() ? dequantizeApart(g, in) : in.name();
        String w = QdqNodes.int4Weight(g, q.weights().packed(), q.weights().shape(), q.weights().scales(),
                q.weights().blockSize());
        String b = g.floats(g.fresh("b"), q.bias().castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat(),
                q.bias().length());
        String y = g.add(g.matMul(g.reshape(x, -1, 1, q.weights().inputs()), w), b);
        return g.reshape(y, -1, q.weights().outputs());
    }

    /**
     * Codes to real values as DequantizeLinear computes them, {@code (float) (q - zeroPoint) * scale}, but with Cast,
     * Sub and Mul: a MatMul whose input is a DequantizeLinear too (an int8 layer's or pooling's codes before a 4-bit
     * layer) is not fused into MatMulNBits, which takes one DequantizeLinear, of the weights.
     */
    private static String dequantizeApart(OnnxGraph g, Value v) {
        String real = g.activation("Cast", v.name(), Map.of("to", (long) DataType.FLOAT_VALUE));
        real = g.sub(real, g.floats(g.fresh("zero_point_f"), new float[]{v.quant().zeroPoint()}));
        return g.mul(real, g.floats(g.fresh("scale"), new float[]{v.quant().scale()}));
    }

    private static String linear(OnnxGraph g, Geometry geometry, String x, String w, String b) {
        if (geometry instanceof Geometry.Conv c) {
            return g.conv(x, w, b, new long[]{c.kernelH(), c.kernelW()}, new long[]{c.strideH(), c.strideW()},
                    pads(c.kernelH(), c.kernelW(), c.strideH(), c.strideW(), c.padH(), c.padW(), c.same(), c.inH(), c.inW()));
        }
        return g.gemm(x, w, b);
    }

    private static Value pooling(OnnxGraph g, Step.Pooling p, Value in) {
        long[] kernel = {p.kernelH(), p.kernelW()};
        long[] strides = {p.strideH(), p.strideW()};
        int inH = (int) in.shape()[1], inW = (int) in.shape()[2];
        long[] pads = pads(p.kernelH(), p.kernelW(), p.strideH(), p.strideW(), p.padH(), p.padW(), p.same(), inH, inW);
        long outH = Geometry.outSize(inH, p.kernelH(), p.strideH(), p.padH(), p.same());
        long outW = Geometry.outSize(inW, p.kernelW(), p.strideW(), p.padW(), p.same());
        long[] shape = {in.shape()[0], outH, outW};
        if (p.max()) return new Value(g.maxPool(in.name(), kernel, strides, pads), in.quant(), shape);   // uint8 too
        String x = in.quantized() ? dequantize(g, in) : in.name();
        String y = g.averagePool(x, kernel, strides, pads, p.includePadInAverage());
        return in.quantized() ? new Value(quantize(g, y, in.quant()), in.quant(), shape) : new Value(y, null, shape);
    }

    /**
     * Global pooling to [batch, channels]: GlobalAveragePool (or GlobalMaxPool), then Flatten. On codes, max is a
     * MaxPool over the whole image in uint8 (GlobalMaxPool takes floats only); average dequantizes, averages and
     * quantizes back to the input's quantization.
     */
    private static Value globalPooling(OnnxGraph g, Step.GlobalPooling p, Value in) {
        long[] shape = {in.shape()[0]};
        if (p.max() && in.quantized()) {
            long[] kernel = {in.shape()[1], in.shape()[2]};
            return new Value(g.flatten(g.maxPool(in.name(), kernel, new long[]{1, 1}, new long[]{0, 0, 0, 0})),
                    in.quant(), shape);
        }
        String x = in.quantized() ? dequantize(g, in) : in.name();
        String y = p.max() ? g.globalMaxPool(x) : g.globalAveragePool(x);
        if (in.quantized()) y = quantize(g, y, in.quant());
        return new Value(g.flatten(y), in.quant(), shape);
    }

    /** ONNX pads [top, left, bottom, right]: given, or DL4J's Same split (the odd row or column at the bottom/right). */
    static long[] pads(int kH, int kW, int sH, int sW, int pH, int pW, boolean same, int inH, int inW) {
        if (!same) return new long[]{pH, pW, pH, pW};
        long totalH = Geometry.sameTotalPadding(inH, kH, sH);
        long totalW = Geometry.sameTotalPadding(inW, kW, sW);
        return new long[]{totalH / 2, totalW / 2, totalH - totalH / 2, totalW - totalW / 2};
    }

    private static String activation(OnnxGraph g, IActivation a, String x, Step step) {
        if (a instanceof ActivationIdentity) return x;
        if (a instanceof ActivationReLU r && r.toString().equals("relu")) return g.relu(x);
        if (a instanceof ActivationSoftmax) {
            if (step instanceof FloatLinear f && f.geometry() instanceof Geometry.Conv
                    || step instanceof Int8Linear q && q.geometry() instanceof Geometry.Conv) {
                throw unsupported(step, "softmax after a convolution");
            }
            return g.softmax(x);
        }
        if (a instanceof ActivationTanH) return g.activation("Tanh", x, Map.of());
        if (a instanceof ActivationSigmoid) return g.activation("Sigmoid", x, Map.of());
        if (a instanceof ActivationSoftPlus) return g.activation("Softplus", x, Map.of());
        if (a instanceof ActivationSoftSign) return g.activation("Softsign", x, Map.of());
        if (a instanceof ActivationLReLU l) return g.activation("LeakyRelu", x, Map.of("alpha", (float) l.getAlpha()));
        if (a instanceof ActivationELU e) return g.activation("Elu", x, Map.of("alpha", (float) e.getAlpha()));
        if (a instanceof ActivationHardSigmoid) return g.activation("HardSigmoid", x, Map.of("alpha", 0.2f, "beta", 0.5f));
        throw unsupported(step, "the activation " + a);
    }

    private static BadInputException unsupported(Step step, String what) {
        String label = step instanceof Step.Linear l ? l.label()
                : step instanceof Step.Residual r ? r.label() + " (residual add)" : step.describe();
        return new BadInputException("layer " + label + ": ONNX export does not support " + what
                + "; supported activations: identity, relu, softmax, tanh, sigmoid, softplus, softsign, leakyrelu, elu, hardsigmoid");
    }

    private static String quantize(OnnxGraph g, String x, ActivationQuant q) {
        return QdqNodes.quantize(g, x, q);
    }

    private static String dequantize(OnnxGraph g, Value v) {
        return QdqNodes.dequantize(g, v.name(), v.quant());
    }

    private static long[] outShape(Step step, long[] in) {
        Geometry geometry = ((Step.Linear) step).geometry();
        if (geometry instanceof Geometry.Conv c) return new long[]{c.outChannels(), c.outH(), c.outW()};
        INDArray w = step instanceof FloatLinear f ? f.weights() : null;
        long out = w != null ? w.size(1) : step instanceof Int4Linear q4 ? q4.weights().outputs()
                : step instanceof WeightOnlyInt8Linear w8 ? w8.weights().shape()[1]
                : ((Int8Linear) step).weights().shape()[1];
        return new long[]{out};
    }

    /**
     * A constant of one value per input feature, written as small as broadcasting allows: one value when all are equal
     * (the registered image datasets' normalization), one per channel ({@code [C, 1, 1]}) when each channel's plane
     * holds one (image folders'), else one per feature. Sub and Mul broadcast it, so every element computes the same.
     */
    private static String perFeature(OnnxGraph g, String name, float[] values, long[] inputShape) {
        if (allEqual(values, 0, values.length)) return g.floats(name, new float[]{values[0]});
        if (inputShape.length == 3 && inputShape[0] > 1) {
            int channels = (int) inputShape[0];
            int plane = values.length / channels;
            float[] perChannel = new float[channels];
            boolean uniform = true;
            for (int c = 0; c < channels && uniform; c++) {
                uniform = allEqual(values, c * plane, (c + 1) * plane);
                perChannel[c] = values[c * plane];
            }
            if (uniform) return g.floats(name, perChannel, channels, 1, 1);
        }
        return g.floats(name, values, inputShape);
    }

    /** Whether {@code values[from..to)} are all the same float, bit for bit. */
    private static boolean allEqual(float[] values, int from, int to) {
        for (int i = from + 1; i < to; i++) {
            if (Float.floatToRawIntBits(values[i]) != Float.floatToRawIntBits(values[from])) return false;
        }
        return true;
    }

    private static boolean standardizes(Normalization n) {
        for (int j = 0; j < n.featureSize(); j++) if (n.standardizes(j)) return true;
        return false;
    }

    private static long[] batched(long[] shape) {
        long[] out = new long[shape.length + 1];
        out[0] = -1;
        System.arraycopy(shape, 0, out, 1, shape.length);
        return out;
    }
}
