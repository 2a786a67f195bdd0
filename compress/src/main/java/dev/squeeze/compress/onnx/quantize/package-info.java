/**
 * Int8 quantization of any ONNX file: reading it ({@link dev.squeeze.compress.onnx.quantize.OnnxModelFile}), finding
 * the nodes worth quantizing and rewriting them the way ONNX Runtime's {@code quantize_dynamic} does
 * ({@link dev.squeeze.compress.onnx.quantize.DynamicQuantizer}), and the {@code quantize} stage that checks the result
 * in ONNX Runtime before writing it ({@link dev.squeeze.compress.onnx.quantize.OnnxQuantizeService}).
 */
package dev.squeeze.compress.onnx.quantize;
