package dev.squeeze.compress.artifacts;

import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.data.Normalization;

import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

/**
 * What a model file says about itself, beside the weights: which architecture and dataset, the
 * normalization fitted on the training split (so evaluation and inference apply the same), and the run
 * that produced it.
 *
 * @param dataset    the dataset as given to {@code --dataset} (a registered name, a CSV path or an image folder's path)
 * @param table      a CSV dataset's label and categorical columns, so the same encoding can be read again
 * @param inputShape one example's shape; for an image folder also the size and channels its images are read at again
 */
public record ModelInfo(String model, String dataset, Datasets.TableOptions table, long[] inputShape,
                        List<String> classNames, Normalization normalization, String configHash, String runId,
                        int epoch, double validationAccuracy) {

    /**
     * The dataset this model reads, opened as it was for training: a CSV dataset with the same label and categorical
     * columns, so its features are encoded identically; an image folder (this one or another) at the model's input
     * size and channels.
     *
     * @param name    the dataset to open, or null for {@link #dataset()}
     * @param dataDir where its files are, or null to locate them
     */
    public Dataset openDataset(String name, Path dataDir, DatasetLocator locator, Consumer<String> notices) {
        String which = name != null ? name : dataset;
        Datasets.TableOptions options = Datasets.isCsv(which) && table != null ? table : Datasets.TableOptions.NONE;
        boolean folder = !Datasets.isCsv(which) && !Datasets.isRegistered(which);
        Datasets.ImageOptions images = folder ? Datasets.ImageOptions.of(inputShape) : Datasets.ImageOptions.NONE;
        return Datasets.open(which, dataDir, locator, options, images, notices);
    }

    public int numClasses() {
        return classNames.size();
    }

    public ModelInfo atEpoch(int epoch, double validationAccuracy) {
        return new ModelInfo(model, dataset, table, inputShape, classNames, normalization, configHash, runId, epoch,
                validationAccuracy);
    }
}
