/**
 * Serving without any web framework and without DL4J: ONNX models loaded from a folder (and reloaded when their files
 * change), Open Inference Protocol tensors decoded and checked against each model's inputs, dynamic batching of
 * concurrent requests into one ONNX Runtime call.
 */
package dev.squeeze.serve.runtime;
