/**
 * What every module shares, at the bottom: {@link dev.squeeze.models.core.BadInputException} (the user's input is
 * wrong; the CLI exits with 2) and atomic file writes ({@link dev.squeeze.models.core.AtomicFiles}), which report a
 * full disk as a {@link dev.squeeze.models.core.DiskFullException} naming the file and the disk.
 */
package dev.squeeze.models.core;
