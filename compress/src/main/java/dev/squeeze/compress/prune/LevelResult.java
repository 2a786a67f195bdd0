package dev.squeeze.compress.prune;

import java.util.Map;

/**
 * One trained network of a search: the dense baseline (level 0), a ticket, or a control.
 *
 * @param remaining          per prunable layer and {@code total}, the share of weights that survive
 * @param earlyStopIteration optimizer steps (of this level's retraining) to the best validation accuracy
 * @param seconds            wall time of this level's training and evaluation
 */
public record LevelResult(int level, String kind, String runId, Map<String, Double> remaining, double testAccuracy,
                          double validationAccuracy, long earlyStopIteration, double seconds, long params,
                          long nonzeroParams, long fileBytes) {

    public double totalRemaining() {
        return remaining.get("total");
    }
}
