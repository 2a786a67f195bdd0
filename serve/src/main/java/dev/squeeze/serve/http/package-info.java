/**
 * The HTTP layer: Micronaut controllers speaking the Open Inference Protocol v2 (health, model metadata, inference,
 * repository), a predict endpoint for images, Prometheus metrics and the OpenAPI document. Thin: every decision is
 * in serve.runtime.
 */
package dev.squeeze.serve.http;
