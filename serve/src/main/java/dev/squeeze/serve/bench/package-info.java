/**
 * The in-process model benchmark: {@link dev.squeeze.serve.bench.ModelBenchmark} measures one ONNX file the same way
 * for every variant (size, parameters, latency percentiles, throughput, memory, accuracy on
 * {@link dev.squeeze.serve.bench.LabeledRows}) with {@link dev.squeeze.serve.bench.BenchmarkOptions}, giving a
 * {@link dev.squeeze.serve.bench.BenchmarkResult}; {@link dev.squeeze.serve.bench.BenchmarkJobs} runs it on served
 * models for the server's {@code POST /v1/benchmarks} ({@link dev.squeeze.serve.bench.BenchmarkRequest}). Built on
 * serve.runtime.
 */
package dev.squeeze.serve.bench;
