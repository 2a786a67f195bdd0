/**
 * Benchmarks recorded in the ledger and the Pareto report built from them. It lives in the CLI module because it is
 * the one that sees the three parts it joins: the ledger and datasets (compress, models) and the ONNX Runtime
 * measurement (serve.bench); the commands stay thin around it.
 */
package dev.squeeze.cli.bench;
