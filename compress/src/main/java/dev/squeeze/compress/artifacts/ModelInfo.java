package dev.squeeze.compress.artifacts;

import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.data.Normalization;

import java.util.List;

/**
 * What a model file says about itself, beside the weights: which architecture and dataset, the
 * normalization fitted on the training split (so evaluation and inference apply the same), and the run
 * that produced it.
 *
 * @param dataset the dataset as given to {@code --dataset} (a registered name or a CSV path)
 * @param table   a CSV dataset's label and categorical columns, so the same encoding can be read again
 */
public record ModelInfo(String model, String dataset, Datasets.TableOptions table, long[] inputShape,
                        List<String> classNames, Normalization normalization, String configHash, String runId,
                        int epoch, double validationAccuracy) {

    public int numClasses() {
        return classNames.size();
    }

    public ModelInfo atEpoch(int epoch, double validationAccuracy) {
        return new ModelInfo(model, dataset, table, inputShape, classNames, normalization, configHash, runId, epoch,
                validationAccuracy);
    }
}
