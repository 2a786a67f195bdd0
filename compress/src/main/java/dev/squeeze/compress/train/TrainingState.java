package dev.squeeze.compress.train;

import java.util.List;

/** Progress saved with every epoch's checkpoint, so an interrupted run resumes where it stopped. */
record TrainingState(int epochsDone, int bestEpoch, double bestValidationAccuracy, int epochsSinceBest,
                     List<EpochMetrics> history) {
}
