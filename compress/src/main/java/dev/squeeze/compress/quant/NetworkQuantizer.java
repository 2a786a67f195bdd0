package dev.squeeze.compress.quant;

import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.network.FloatLinear;
import dev.squeeze.compress.network.Geometry;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.compress.network.Step;
import dev.squeeze.core.BadInputException;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Post-training static quantization of an all-float {@link StepNetwork}: every dense and convolutional layer
 * not kept in float becomes an {@link Int8Linear} whose input and output quantizations are the calibrated ones of
 * the tensors around it (pooling and reshapes keep the quantization of their input, so consecutive int8 layers
 * pass codes without requantizing). A residual add whose inputs arrive as codes (from either path) adds them
 * requantized to its own calibrated output quantization, the next layer's input. The last layer's output stays real.
 *
 * <p>With {@link FourBit} (4-bit weights), each dense layer not kept in float nor at 8 bits becomes an
 * {@link Int4Linear}: weight-only, real values in and out, as a float layer passes them; convolutions stay int8 (ONNX
 * Runtime has no 4-bit convolution kernel). With {@link ConvActivations#FLOAT}, each convolution not kept in float
 * becomes a {@link WeightOnlyInt8Linear}: int8 weights, real values in and out.
 */
public final class NetworkQuantizer {
    private NetworkQuantizer() {
    }

    /**
     * @param points    the quantization of each calibration point ({@link StepNetwork#forward}): the input, then each
     *                  dense or convolutional layer's and each residual add's output except the last layer's
     * @param keepFloat DL4J layer indices to leave in float
     */
    public static StepNetwork quantize(StepNetwork floatNetwork, List<ActivationQuant> points,
                                            Granularity granularity, Set<Integer> keepFloat) {
        return quantize(floatNetwork, points, new Scheme(granularity, keepFloat, null, ConvActivations.INT8));
    }

    /**
     * How each dense and convolutional layer is quantized.
     *
     * @param granularity     int8 weight scales per channel or per tensor
     * @param keepFloat       DL4J layer indices left in float
     * @param fourBit         null for 8-bit weights throughout; else dense layers get 4-bit weights as it says
     * @param convActivations what the convolutions not kept in float compute in
     */
    public record Scheme(Granularity granularity, Set<Integer> keepFloat, FourBit fourBit,
                         ConvActivations convActivations) {
        public Scheme {
            keepFloat = Set.copyOf(keepFloat);
        }

        /** The same with {@code keepFloat} left in float instead. */
        public Scheme keeping(Set<Integer> keepFloat) {
            return new Scheme(granularity, keepFloat, fourBit, convActivations);
        }

        /** The layer's form: float, 4-bit weights, int8 weights with float activations, or int8. */
        Form form(FloatLinear f) {
            if (keepFloat.contains(f.layer())) return Form.FLOAT;
            if (fourBit != null && fourBit.applies(f)) return Form.FOUR_BIT;
            if (convActivations == ConvActivations.FLOAT && f.geometry() instanceof Geometry.Conv) return Form.WEIGHT_ONLY_INT8;
            return Form.INT8;
        }
    }

    /** What a layer becomes. */
    enum Form {
        FLOAT, FOUR_BIT, WEIGHT_ONLY_INT8, INT8;

        /** Whether its weights are int8: the weights quantization-aware training fake-quantizes at 8 bits. */
        boolean int8Weights() {
            return this == WEIGHT_ONLY_INT8 || this == INT8;
        }
    }

    /**
     * 4-bit weights: the blocks they are quantized in, and the dense layers left at 8 bits.
     *
     * @param keep8bit DL4J layer indices of dense layers quantized to int8 instead
     */
    public record FourBit(int blockSize, Set<Integer> keep8bit) {
        public FourBit {
            keep8bit = Set.copyOf(keep8bit);
        }

        /** Whether {@code f} gets 4-bit weights: a dense layer not kept at 8 bits. */
        public boolean applies(FloatLinear f) {
            return f.geometry() instanceof dev.squeeze.compress.network.Geometry.Dense && !keep8bit.contains(f.layer());
        }
    }

    /**
     * @param fourBit null for int8 throughout; else dense layers get 4-bit weights as it says
     */
    public static StepNetwork quantize(StepNetwork floatNetwork, List<ActivationQuant> points,
                                            Granularity granularity, Set<Integer> keepFloat, FourBit fourBit) {
        return quantize(floatNetwork, points, new Scheme(granularity, keepFloat, fourBit, ConvActivations.INT8));
    }

    public static StepNetwork quantize(StepNetwork floatNetwork, List<ActivationQuant> points, Scheme scheme) {
        int count = floatNetwork.calibrationPointCount();
        if (points.size() < count) {
            throw new IllegalArgumentException(points.size() + " calibration points for " + count + " needed");
        }
        List<Step> linear = floatNetwork.linearSteps();
        if (linear.isEmpty()) throw new IllegalArgumentException("the network has no dense or convolutional layer");
        Walk walk = new Walk(points, scheme, linear.get(linear.size() - 1));
        List<Step> steps = new ArrayList<>();
        walk.steps(floatNetwork.steps(), new Flow(points.get(0), false), steps);
        return new StepNetwork(floatNetwork.inputShape(), steps);
    }

    /**
     * The tensor between two steps: the calibrated quantization of its values, and whether it flows as codes under
     * that quantization (else real).
     */
    private record Flow(ActivationQuant quant, boolean codes) {
    }

    /** One pass over the float steps, taking the calibration points in {@link StepNetwork#forward}'s order. */
    private static final class Walk {
        private final List<ActivationQuant> points;
        private final Scheme scheme;
        private final Step lastLayer;
        private int next = 1;   // point 0 is the input

        Walk(List<ActivationQuant> points, Scheme scheme, Step lastLayer) {
            this.points = points;
            this.scheme = scheme;
            this.lastLayer = lastLayer;
        }

        /** Appends the int8 form of {@code steps} to {@code out}; returns the tensor they leave. */
        Flow steps(List<Step> steps, Flow at, List<Step> out) {
            for (Step step : steps) {
                if (step instanceof Int8Linear || step instanceof Int4Linear || step instanceof WeightOnlyInt8Linear
                        || step instanceof Step.Residual r && r.output() != null) {
                    throw new IllegalArgumentException("already quantized: " + step.describe());
                }
                if (step instanceof FloatLinear f) {
                    boolean last = f == lastLayer;
                    ActivationQuant output = last ? null : points.get(next++);
                    Form form = scheme.form(f);
                    switch (form) {
                        case FLOAT -> out.add(f);
                        case FOUR_BIT -> out.add(Int4Linear.quantize(f, scheme.fourBit().blockSize()));   // real in and out
                        case WEIGHT_ONLY_INT8 -> out.add(WeightOnlyInt8Linear.quantize(f, scheme.granularity()));
                        case INT8 -> {
                            boolean relu = !last && hiddenActivationIsRelu(f);
                            out.add(Int8Linear.quantize(f, f.geometry().outputChannelAxis(), scheme.granularity(),
                                    at.quant(), output, relu));
                        }
                    }
                    at = new Flow(output, form == Form.INT8 && !last);
                } else if (step instanceof Step.Residual r) {
                    List<Step> main = new ArrayList<>();
                    List<Step> shortcut = new ArrayList<>();
                    Flow fromMain = steps(r.main(), at, main);   // main first: the order of the points
                    Flow fromShortcut = steps(r.shortcut(), at, shortcut);
                    if (fromMain.quant() == null || fromShortcut.quant() == null) {
                        throw new IllegalArgumentException("the last layer is inside residual " + r.label());
                    }
                    boolean codes = fromMain.codes() || fromShortcut.codes();
                    ActivationQuant output = points.get(next++);
                    if (codes) checkAddActivation(r);
                    out.add(new Step.Residual(r.label(), main, shortcut, r.activation(), codes ? output : null));
                    at = new Flow(output, codes);
                } else {
                    out.add(step);   // reshapes and pooling keep the quantization
                }
            }
            return at;
        }
    }

    private static void checkAddActivation(Step.Residual r) {
        if (!Step.isPlainRelu(r.activation()) && !(r.activation() instanceof ActivationIdentity)) {
            throw new BadInputException("residual add " + r.label() + " is followed by the activation " + r.activation()
                    + "; an int8 add applies only ReLU or identity");
        }
    }

    private static boolean hiddenActivationIsRelu(FloatLinear f) {
        IActivation a = f.activation();
        if (Step.isPlainRelu(a)) return true;
        if (a instanceof ActivationIdentity) return false;
        throw new BadInputException("layer " + f.label() + " uses the activation " + a + "; between int8 layers only "
                + "ReLU and identity are supported; keep this layer in float with --keep-float " + f.layer());
    }
}
