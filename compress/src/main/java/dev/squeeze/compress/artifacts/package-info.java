/**
 * A run's files, below the ledger: where each file of a run lives ({@link dev.squeeze.compress.artifacts.RunPaths},
 * with its rewind snapshots named by {@link dev.squeeze.compress.artifacts.RewindPoint}), the lock held while a
 * process writes there ({@link dev.squeeze.compress.artifacts.RunLock}), the float model file format
 * ({@link dev.squeeze.compress.artifacts.ModelFile}, {@link dev.squeeze.compress.artifacts.ModelInfo}) and the import
 * of plain DL4J models into it, the one JSON mapper, and the code commit recorded with runs. Nothing here opens the
 * ledger; atomic writes are {@link dev.squeeze.core.AtomicFiles}.
 */
package dev.squeeze.compress.artifacts;
