/**
 * {@code squeeze shrink}: one command that searches the project's compressions (int8, unstructured and structured
 * pruning, distillation into smaller zoo students) cheapest training first, measures every candidate on the same
 * terms as the dense model in ONNX Runtime, and chooses the smallest or fastest within an accuracy budget
 * ({@link dev.squeeze.pipeline.shrink.ShrinkService}). What a candidate is measured as is a
 * {@link dev.squeeze.pipeline.shrink.Variant}: the place where new encodings and storages plug in.
 */
package dev.squeeze.pipeline.shrink;
