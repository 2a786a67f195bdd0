/**
 * Guarded training: shuffles features and labels together, stops at once on a non-finite loss, watches for stalls
 * and overfitting, stops early on validation accuracy, checkpoints atomically every epoch and resumes an interrupted
 * run; {@link dev.squeeze.compress.train.TrainingService} records each run in the ledger, and
 * {@link dev.squeeze.compress.train.TrainedRun} finds a finished one for the stages that start from it.
 */
package dev.squeeze.compress.train;
