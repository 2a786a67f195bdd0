/**
 * ONNX export: a small graph builder over the ONNX protobuf classes, the exporter that writes a
 * {@link dev.squeeze.compress.network.StepNetwork} as a float model or an int8 model in QDQ form (which ONNX Runtime
 * fuses into integer kernels), and the service that checks what it wrote in ONNX Runtime before keeping it.
 */
package dev.squeeze.compress.onnx;
