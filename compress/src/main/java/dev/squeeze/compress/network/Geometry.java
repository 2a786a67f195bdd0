package dev.squeeze.compress.network;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.convolution.Convolution;

/**
 * How a dense or convolutional layer's input becomes the rows of one matrix product and back: a dense layer's
 * input already is [batch, nIn]; a convolution's is unfolded (im2col) into [batch * outH * outW, inC * kH * kW]
 * and its [batch * outH * outW, outC] result folded back to NCHW. Unfolding only copies values, so integer
 * codes stay exact.
 */
public sealed interface Geometry {

    INDArray toRows(INDArray input);

    INDArray fromRows(INDArray rows, long batch);

    /** The output-channel axis of the layer's weights: 1 for dense [nIn, nOut], 0 for convolution [outC, ...]. */
    default int outputChannelAxis() {
        return this instanceof Dense ? 1 : 0;
    }

    /** The layer's weights (DL4J's layout) as the [inputs per row, outC] right-hand side of the product. */
    INDArray gemmWeights(INDArray weights);

    /**
     * Output size along one axis of a convolution or pooling window, as DL4J computes it: ceil(in / stride) in Same
     * mode, else truncating with the explicit padding on both sides.
     */
    static int outSize(int in, int kernel, int stride, int pad, boolean same) {
        return same ? (in + stride - 1) / stride : (in + 2 * pad - kernel) / stride + 1;
    }

    /** Same mode's total padding along one axis; DL4J puts half (rounded down) before the data, the rest after. */
    static int sameTotalPadding(int in, int kernel, int stride) {
        return Math.max(0, (outSize(in, kernel, stride, 0, true) - 1) * stride + kernel - in);
    }

    /** A dense layer: rows are examples. */
    record Dense() implements Geometry {
        @Override
        public INDArray toRows(INDArray input) {
            return input;
        }

        @Override
        public INDArray fromRows(INDArray rows, long batch) {
            return rows;
        }

        @Override
        public INDArray gemmWeights(INDArray weights) {
            return weights;
        }
    }

    /**
     * A 2-D convolution over NCHW input, dilation 1.
     *
     * @param same DL4J's ConvolutionMode.Same (padding chosen so out = ceil(in / stride)); otherwise the explicit
     *             padding, truncating
     */
    record Conv(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW, boolean same,
                int inChannels, int outChannels, int inH, int inW) implements Geometry {

        public int outH() {
            return Geometry.outSize(inH, kernelH, strideH, padH, same);
        }

        public int outW() {
            return Geometry.outSize(inW, kernelW, strideW, padW, same);
        }

        @Override
        public INDArray toRows(INDArray input) {
            long batch = input.size(0);
            // [batch, c, kH, kW, outH, outW], padded with 0 (a real zero: codes are offset by the zero point first).
            // In Same mode im2col pads the bottom/right as needed but the top/left only as told: DL4J's split.
            INDArray cols = Convolution.im2col(input, kernelH, kernelW, strideH, strideW, topPad(), leftPad(), same);
            return cols.permute(0, 4, 5, 1, 2, 3).dup('c')
                    .reshape('c', batch * outH() * outW(), (long) inChannels * kernelH * kernelW);
        }

        @Override
        public INDArray fromRows(INDArray rows, long batch) {
            return rows.reshape('c', batch, outH(), outW(), outChannels).permute(0, 3, 1, 2).dup('c');
        }

        @Override
        public INDArray gemmWeights(INDArray weights) {
            return weights.dup('c').reshape('c', outChannels, (long) inChannels * kernelH * kernelW).transpose().dup('c');
        }

        /** Padding above the image: given, or in Same mode half the total (the odd row goes below), as DL4J does. */
        public int topPad() {
            return same ? Geometry.sameTotalPadding(inH, kernelH, strideH) / 2 : padH;
        }

        public int leftPad() {
            return same ? Geometry.sameTotalPadding(inW, kernelW, strideW) / 2 : padW;
        }
    }
}
