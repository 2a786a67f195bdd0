package dev.squeeze.compress.network;


import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Rint;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/** One step of a {@link StepNetwork}'s forward pass. */
public sealed interface Step permits Step.Reshape, Step.Pooling, Step.Linear {

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
}
