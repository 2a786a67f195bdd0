package dev.squeeze.compress.train;

/**
 * Hears about training as it happens; the CLI draws a progress bar from it. Every method has a no-op
 * default, so a test or a sweep can listen to what it needs.
 */
public interface TrainingMonitor {
    TrainingMonitor SILENT = new TrainingMonitor() {
    };

    /** A line for the user (progress channel, not results). */
    default void message(String line) {
    }

    default void epochStarted(int epoch, int maxEpochs, int steps) {
    }

    /** After each optimizer step: the step's loss and the epoch's throughput so far. */
    default void stepDone(int step, double loss, double samplesPerSecond) {
    }

    default void epochFinished(EpochMetrics metrics) {
    }
}
