package dev.squeeze.compress.train;

import java.nio.file.Path;
import java.util.List;

/**
 * How a training run went.
 *
 * @param resumedAfterEpoch 0 for a fresh run, else the epoch an interrupted run resumed after
 * @param stopReason        why training ended, in words
 * @param warnings          what the training watch said during this run (stalled loss, overfitting)
 */
public record TrainingResult(List<EpochMetrics> history, int bestEpoch, double bestValidationAccuracy,
                             double trainAccuracyAtBest, int resumedAfterEpoch, String stopReason, Path model,
                             List<String> warnings) {
}
