package dev.squeeze.compress.stage;

import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.ledger.RunRecord;

/**
 * What {@link StageRunner#run} hands back: the finished ledger row, the run folder, the stage's outcome, and whether
 * the run was reused (its folder already held its outcome) rather than run now.
 */
public record StageResult<O>(RunRecord run, RunPaths paths, O outcome, boolean reused) {
}
