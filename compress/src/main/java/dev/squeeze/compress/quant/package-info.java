/**
 * Int8 quantization of a {@link dev.squeeze.compress.network.StepNetwork}: post-training static quantization
 * (weights int8 symmetric per output channel or per tensor, activations uint8 per tensor with a zero point, biases
 * int32) with ranges calibrated by min/max, percentile or entropy; exact integer inference in ND4J
 * ({@link dev.squeeze.compress.quant.Int8Linear}, {@link dev.squeeze.compress.quant.Int8Kernels}); the int8 model
 * file; per-layer sensitivity; quantization-aware training with fake quantization and a straight-through estimator.
 * And 4-bit weights for dense layers: block-wise symmetric int4 ({@link dev.squeeze.compress.quant.Int4Weights}) with
 * float activations ({@link dev.squeeze.compress.quant.Int4Linear}), as ONNX Runtime's MatMulNBits computes.
 */
package dev.squeeze.compress.quant;
