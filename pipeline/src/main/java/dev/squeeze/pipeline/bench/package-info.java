/**
 * Benchmarks recorded in the ledger and the Pareto report built from them. It joins the ledger and datasets
 * (compress, models) with the ONNX Runtime measurement (serve.bench), which is why it sits in the pipeline module,
 * above both; {@code squeeze bench}, {@code squeeze report} and the recipe runner call it.
 */
package dev.squeeze.pipeline.bench;
