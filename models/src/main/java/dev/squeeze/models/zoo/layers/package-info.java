/**
 * Custom DL4J layers for the zoo. {@link dev.squeeze.models.zoo.layers.NativeConvolution} is DL4J's
 * ConvolutionLayer computed with libnd4j's native conv2d/conv2d_bp ops (oneDNN on CPU), because DL4J
 * 1.0.0-M2.1 never enables its own oneDNN convolution helper on CPU.
 */
package dev.squeeze.models.zoo.layers;
