package dev.squeeze.compress.artifacts;

import dev.squeeze.models.data.Normalization;

import java.util.List;

/**
 * What a model file says about itself, beside the weights: which architecture and dataset, the
 * normalization fitted on the training split (so evaluation and inference apply the same), and the run
 * that produced it.
 */
public record ModelInfo(String model, String dataset, long[] inputShape, List<String> classNames,
                        Normalization normalization, String configHash, String runId, int epoch,
                        double validationAccuracy) {

    public int numClasses() {
        return classNames.size();
    }

    public ModelInfo atEpoch(int epoch, double validationAccuracy) {
        return new ModelInfo(model, dataset, inputShape, classNames, normalization, configHash, runId, epoch,
                validationAccuracy);
    }
}
