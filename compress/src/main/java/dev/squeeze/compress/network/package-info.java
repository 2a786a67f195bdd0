/**
 * The network representation that int8 inference and ONNX export share: a
 * {@link dev.squeeze.compress.network.StepNetwork} is a list of {@link dev.squeeze.compress.network.Step}s (reshapes,
 * pooling, global pooling, dense or convolutional layers as {@link dev.squeeze.compress.network.Step.Linear}, and
 * residual blocks as {@link dev.squeeze.compress.network.Step.Residual}, which hold the steps of their two paths)
 * passing {@link dev.squeeze.compress.network.Tensor}s (real values, or uint8 codes with their
 * {@link dev.squeeze.compress.network.ActivationQuant}). {@link dev.squeeze.compress.network.Dl4jLayers} reads a DL4J
 * layer stack or a residual {@code ComputationGraph} into an all-float one ({@link dev.squeeze.compress.network.FloatLinear}
 * layers, batch norms folded), which float ONNX export writes and calibration observes; quant's {@code Int8Linear} is
 * the int8 form of a layer. Nothing here depends on {@code quant} or {@code onnx}.
 */
package dev.squeeze.compress.network;
