/**
 * Run lookups above the ledger: the {@link dev.squeeze.compress.runs.Workspace} (where run folders and the ledger
 * live, and who runs them) and {@link dev.squeeze.compress.runs.ModelSource} (the model a stage starts from, named by
 * run id or model file). A finished training run with its settings is {@link dev.squeeze.compress.train.TrainedRun}.
 */
package dev.squeeze.compress.runs;
