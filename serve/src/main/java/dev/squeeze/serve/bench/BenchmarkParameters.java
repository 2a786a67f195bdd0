package dev.squeeze.serve.bench;

/**
 * A model's weights as stored in its ONNX file (see {@link ModelBenchmark#countParameters} for what counts).
 *
 * @param parameters        elements of the counted initializers
 * @param nonZeroParameters how many of them are not zero
 * @param initializers      how many initializers were counted
 */
public record BenchmarkParameters(long parameters, long nonZeroParameters, int initializers) {
}
