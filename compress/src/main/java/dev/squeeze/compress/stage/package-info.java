/**
 * The stage runner: one contract ({@link dev.squeeze.compress.stage.Stage}) for every step that records a run, and
 * one runner ({@link dev.squeeze.compress.stage.StageRunner}) that hashes its settings, names and locks its run folder,
 * records its ledger row, runs it, and writes its outcome file. One rule says whether a step is done: the folder named
 * by the hash holds {@code outcome.json} ({@link dev.squeeze.compress.stage.OutcomeFile}); pruning levels follow the
 * same rule per level folder.
 *
 * <p>Adding a stage: write one class implementing {@code Stage<YourParams, YourOutcome>} (name, defaults, outcome
 * type, ledger row, work), and call {@code runner.run(new YourStage(...), params)} from its service.
 *
 * <p>A stage whose result must not be reused (a benchmark measures the machine as it is now) runs through
 * {@code runner.forced(true)}: it still gets its folder, lock, row and outcome file.
 */
package dev.squeeze.compress.stage;
