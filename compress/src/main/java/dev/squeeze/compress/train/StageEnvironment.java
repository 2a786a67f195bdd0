package dev.squeeze.compress.train;

import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.stage.StageRunner;
import dev.squeeze.models.data.DatasetLocator;

/**
 * What every stage's service is built with: the workspace (runs root and ledger), where datasets are found, and where
 * progress goes; and the {@link StageRunner} over them, which reports reuse to the monitor.
 */
public record StageEnvironment(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor) {

    /** A runner recording into this workspace. */
    public StageRunner runner() {
        return new StageRunner(workspace, monitor::message);
    }
}
