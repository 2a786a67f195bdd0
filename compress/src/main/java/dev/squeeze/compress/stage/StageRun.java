package dev.squeeze.compress.stage;

import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunRecord;

/**
 * What a {@link Stage}'s work is given: its started ledger row, its settings and their hash, its locked run folder
 * (whose {@code config.json} is already written), and the open ledger (to add notes or read ancestors).
 */
public record StageRun<P extends Record>(RunRecord row, P params, ConfigHash hash, RunPaths paths, RunLedger ledger) {
}
