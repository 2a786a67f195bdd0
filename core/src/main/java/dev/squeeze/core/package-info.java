/**
 * What every module shares, at the bottom (module {@code core}, no DL4J or ONNX Runtime, so serve can use it):
 * {@link dev.squeeze.core.BadInputException} (the user's input is wrong; the CLI exits with 2), atomic file writes
 * ({@link dev.squeeze.core.AtomicFiles}), which report a full disk as a {@link dev.squeeze.core.DiskFullException}
 * naming the file and the disk, and {@link dev.squeeze.core.ExportProvenance}, the record an ONNX export carries
 * that export writes and bench and serve read.
 */
package dev.squeeze.core;
