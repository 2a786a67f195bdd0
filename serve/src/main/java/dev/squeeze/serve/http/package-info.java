/**
 * The HTTP layer: Micronaut controllers speaking the Open Inference Protocol v2 (health, model metadata, inference,
 * repository), a predict endpoint for images, benchmarks of served models and their dashboard, Prometheus metrics and
 * the OpenAPI document. Thin: every decision is in serve.runtime, serve.bench and serve.report.
 */
package dev.squeeze.serve.http;
