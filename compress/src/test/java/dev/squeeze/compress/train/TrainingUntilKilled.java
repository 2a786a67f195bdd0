package dev.squeeze.compress.train;

import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.models.data.DatasetLocator;

import java.nio.file.Path;

/**
 * {@code squeeze train} in its own JVM that stops after its first epoch and waits to be killed with SIGKILL:
 * {@link TrainingServiceTest} kills it and resumes. Arguments: runs folder, ledger file, data folder.
 */
public final class TrainingUntilKilled {

    private TrainingUntilKilled() {
    }

    public static void main(String[] args) {
        var workspace = new Workspace(Path.of(args[0]), args[1]);
        TrainingMonitor waitAfterFirstEpoch = new TrainingMonitor() {
            @Override
            public void epochFinished(EpochMetrics metrics) {
                System.out.println("epoch " + metrics.epoch() + " saved");
                System.out.flush();
                try {
                    Thread.sleep(600_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        new TrainingService(workspace, new DatasetLocator(null, null, null), waitAfterFirstEpoch)
                .train(TrainingServiceTest.resumableParams(), Path.of(args[2]), false);
    }
}
