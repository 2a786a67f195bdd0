package dev.squeeze.compress.network;


import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Rint;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Arrays;
import java.util.List;

/** One step of a {@link StepNetwork}'s forward pass. */
public sealed interface Step permits Step.Reshape, Step.Pooling, Step.GlobalPooling, Step.Residual, Step.Linear {

    Tensor apply(Tensor input);

    /** One line for people: what the step is. */
    String describe();

    /**
     * A dense or convolutional layer: {@link FloatLinear}, or an int8 form of one (quant's {@code Int8Linear}).
     * These are the layers calibration observes and {@link StepNetwork#linearSteps()} lists.
     */
    non-sealed interface Linear extends Step {
        /** The layer's index in the DL4J network. */
        int layer();

        String label();

        Geometry geometry();

        /** Weights and biases. */
        long parameterCount();

        /** Weights and biases that are not zero (fewer after pruning). */
        long nonzeroParameterCount();
    }

    /** The reshape DL4J's preprocessors do between flat and NCHW activations (row-major, so codes move unchanged). */
    record Reshape(long[] exampleShape) implements Step {
        @Override
        public Tensor apply(Tensor input) {
            INDArray v = input.values();
            long[] shape = new long[exampleShape.length + 1];
            shape[0] = v.size(0);
            System.arraycopy(exampleShape, 0, shape, 1, exampleShape.length);
            INDArray c = v.ordering() == 'c' && v.isView() == false ? v : v.dup('c');
            return input.withValues(c.reshape('c', shape));
        }

        @Override
        public String describe() {
            return "reshape to " + Arrays.toString(exampleShape);
        }
    }

    /**
     * 2-D max or average pooling over NCHW activations, with libnd4j's pooling ops. On codes, max pooling is exact
     * (the quantization is monotonic and shared by input and output); average pooling rounds half to even.
     *
     * @param includePadInAverage whether padded cells count in an average's divisor
     */
    record Pooling(boolean max, int kernelH, int kernelW, int strideH, int strideW, int padH, int padW, boolean same,
                   boolean includePadInAverage) implements Step {
        @Override
        public Tensor apply(Tensor input) {
            // Padding must never win a max: pool codes (0 is the lowest code) or, for real values, let the op pad.
            DynamicCustomOp op = DynamicCustomOp.builder(max ? "maxpool2d" : "avgpool2d")
                    .addInputs(input.values())
                    .addIntegerArguments(kernelH, kernelW, strideH, strideW, padH, padW, 1, 1, same ? 1 : 0,
                            includePadInAverage ? 1 : 0, 0)
                    .build();
            INDArray out = Nd4j.exec(op)[0];
            if (!max && input.isQuantized()) Nd4j.exec(new Rint(out, out));
            return input.withValues(out);
        }

        @Override
        public String describe() {
            return (max ? "max" : "avg") + " pool " + kernelH + "x" + kernelW + " stride " + strideH;
        }
    }

    /**
     * Global average (or max) pooling over every position of each channel of NCHW activations, to [batch, channels]:
     * DL4J's {@code GlobalPoolingLayer} with collapsed dimensions. On codes it keeps the input's quantization: max is
     * exact, the average of the codes is rounded half to even (the mean of the dequantized values, quantized again).
     */
    record GlobalPooling(boolean max) implements Step {
        @Override
        public Tensor apply(Tensor input) {
            INDArray v = input.values();
            INDArray out = max ? v.max(2, 3) : v.mean(2, 3);
            if (!max && input.isQuantized()) Nd4j.exec(new Rint(out, out));
            return input.withValues(out);
        }

        @Override
        public String describe() {
            return "global " + (max ? "max" : "average") + " pool";
        }
    }

    /**
     * A residual block: {@code main(x) + shortcut(x)} (an empty shortcut is x itself), then {@code activation}. In
     * float ({@code output} null) the sum is real. In int8 both inputs, codes under their own quantizations (or real
     * values), are dequantized, added in float and quantized to {@code output}, the common scale of the sum, with
     * ReLU as a floor at its zero point: exactly what ONNX's DequantizeLinear (each input), Add, Relu and
     * QuantizeLinear compute in float32.
     *
     * @param label      the add's name in the source network (a graph's vertex name)
     * @param main       the steps of the first path; never empty
     * @param shortcut   the steps of the second path; empty for an identity shortcut
     * @param activation applied to the sum (ReLU or identity when {@code output} is set)
     * @param output     the quantization of the block's output, or null when it stays real
     */
    record Residual(String label, List<Step> main, List<Step> shortcut, IActivation activation,
                    ActivationQuant output) implements Step {
        public Residual {
            main = List.copyOf(main);
            shortcut = List.copyOf(shortcut);
            if (main.isEmpty()) throw new IllegalArgumentException("residual " + label + " has an empty main path");
            if (output != null && !isPlainRelu(activation) && !(activation instanceof ActivationIdentity)) {
                throw new IllegalArgumentException("an int8 residual add applies ReLU or identity, not " + activation);
            }
        }

        @Override
        public Tensor apply(Tensor input) {
            return add(applyAll(main, input), applyAll(shortcut, input));
        }

        /** The block's output from the outputs of its two paths. */
        public Tensor add(Tensor a, Tensor b) {
            INDArray sum = a.real().add(b.real());
            if (output == null) return Tensor.real(activation.getActivation(sum, false));
            INDArray codes = output.quantize(sum);
            if (isPlainRelu(activation)) Transforms.max(codes, output.zeroPoint(), false);
            return new Tensor(codes, output);
        }

        /** Whether the int8 add floors at the zero point (ReLU). */
        public boolean relu() {
            return isPlainRelu(activation);
        }

        @Override
        public String describe() {
            String kind = shortcut.isEmpty() ? "identity shortcut" : "projection shortcut";
            return "residual add " + label + " (" + kind + ") + " + activation + (output == null ? " float" : " int8");
        }
    }

    /** {@code steps} applied in order. */
    static Tensor applyAll(List<Step> steps, Tensor t) {
        for (Step s : steps) t = s.apply(t);
        return t;
    }

    /** Plain ReLU (no threshold, no cap): what int8 layers apply as a floor at the zero point. */
    static boolean isPlainRelu(IActivation a) {
        return a instanceof ActivationReLU r && r.toString().equals("relu");
    }
}
