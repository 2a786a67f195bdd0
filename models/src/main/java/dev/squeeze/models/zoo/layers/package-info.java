/**
 * Custom DL4J layers for the zoo. {@link dev.squeeze.models.zoo.layers.NativeConvolution} is DL4J's
 * ConvolutionLayer computed with libnd4j's native conv2d/conv2d_bp ops (oneDNN on CPU), because DL4J
 * 1.0.0-M2.1 never enables its own oneDNN convolution helper on CPU;
 * {@link dev.squeeze.models.zoo.layers.NativeBatchNormalization} is DL4J's BatchNormalization with DL4J's own oneDNN
 * batch-norm helper installed, for the same reason.
 */
package dev.squeeze.models.zoo.layers;
