package dev.squeeze.compress.train;

import dev.squeeze.models.data.ImageDataset;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.Normalization;
import dev.squeeze.models.data.TrainValSplit;

import java.util.List;

/**
 * A dataset made ready for training: validation carved from the training set with a fixed seed,
 * normalization fitted on the training split only and applied to all three.
 */
public record TrainingData(String dataset, List<String> classNames, long[] inputShape, LabeledData train,
                           LabeledData validation, LabeledData test, Normalization normalization) {

    /** The split does not depend on the training seed: every run of a dataset validates on the same examples. */
    public static final long SPLIT_SEED = 20_190_929L;

    public static TrainingData prepare(ImageDataset source, double validationFraction) {
        TrainValSplit split = TrainValSplit.carve(source.train(), validationFraction, SPLIT_SEED);
        Normalization normalization = Normalization.fitOn(split.train());
        return new TrainingData(source.spec().name(), source.spec().classNames(), source.spec().inputShape(),
                normalization.apply(split.train()), normalization.apply(split.validation()),
                normalization.apply(source.test()), normalization);
    }
}
