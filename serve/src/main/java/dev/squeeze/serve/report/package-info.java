/**
 * The Pareto report: {@link dev.squeeze.serve.report.ParetoReport} turns model variants
 * ({@link dev.squeeze.serve.report.ParetoPoint}s, built from benchmark results or read back from
 * {@code points.json}) into accuracy/size and accuracy/latency frontiers, two SVG plots and an offline HTML page. Above
 * serve.bench, whose results it reads; the dashboard and {@code squeeze bench} render it.
 */
package dev.squeeze.serve.report;
