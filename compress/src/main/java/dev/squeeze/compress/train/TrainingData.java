package dev.squeeze.compress.train;

import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.FeatureColumn;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.Normalization;
import dev.squeeze.models.data.TrainValSplit;

import java.util.List;

/**
 * A dataset made ready for training: validation carved from the training set with a fixed seed,
 * normalization fitted on the training split only and applied to all three.
 */
public record TrainingData(String dataset, List<String> classNames, long[] inputShape, List<FeatureColumn> columns,
                           LabeledData train, LabeledData validation, LabeledData test, Normalization normalization) {

    /** The split does not depend on the training seed: every run of a dataset validates on the same examples. */
    public static final long SPLIT_SEED = 20_190_929L;

    public static TrainingData prepare(Dataset source, double validationFraction) {
        TrainValSplit split = carve(source, validationFraction);
        Normalization normalization = source.fitNormalization(split.train());
        return new TrainingData(source.name(), source.classNames(), source.inputShape(), source.columns(),
                normalization.apply(split.train()), normalization.apply(split.validation()),
                normalization.apply(source.test()), normalization);
    }

    /** The raw (not normalised) train/validation split every run of {@code source} uses. */
    public static TrainValSplit carve(Dataset source, double validationFraction) {
        return TrainValSplit.carve(source.train(), validationFraction, SPLIT_SEED);
    }
}
