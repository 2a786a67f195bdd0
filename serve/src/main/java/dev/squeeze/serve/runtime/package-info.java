/**
 * Serving without any web framework and without DL4J: the model repository (ONNX models loaded from a folder, reloaded
 * when their files change, lent out through {@link dev.squeeze.serve.runtime.ModelLease}s), loaded models and their
 * tensor specs, host tensors, the Open Inference Protocol v2 codec (requests decoded and checked against each model's
 * inputs), image prediction, and the dynamic batcher that joins concurrent requests into one ONNX Runtime call. The
 * bottom of serve: it uses none of serve's other packages (PackageLayoutTest checks this).
 */
package dev.squeeze.serve.runtime;
