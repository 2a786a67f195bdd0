/**
 * Guarded training: shuffles features and labels together, stops at once on a non-finite loss,
 * stops early on validation accuracy, checkpoints atomically every epoch and resumes an interrupted run.
 */
package dev.squeeze.compress.train;
