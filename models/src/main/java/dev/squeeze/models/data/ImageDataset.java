package dev.squeeze.models.data;

import java.nio.file.Path;

/**
 * A loaded image dataset: raw pixel values 0..255, flattened, with labels 0..numClasses-1.
 *
 * @param spec   what the dataset is
 * @param train  the training split (carve validation from it with {@link TrainValSplit})
 * @param test   the test split
 * @param source the directory the files were read from
 */
public record ImageDataset(DatasetSpec spec, LabeledData train, LabeledData test, Path source) {

    /** Whether both splits hold as many examples as the published dataset (false for fixtures and other subsets). */
    public boolean isComplete() {
        return train.size() == spec.train().count() && test.size() == spec.test().count();
    }
}
