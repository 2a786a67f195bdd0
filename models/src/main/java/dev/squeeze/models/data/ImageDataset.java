package dev.squeeze.models.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * A loaded image dataset: raw pixel values 0..255, flattened, with labels 0..numClasses-1.
 *
 * @param spec   what the dataset is
 * @param train  the training split (carve validation from it with {@link TrainValSplit})
 * @param test   the test split
 * @param source the directory the files were read from
 */
public record ImageDataset(DatasetSpec spec, LabeledData train, LabeledData test, Path source) implements Dataset {

    @Override
    public String name() {
        return spec.name();
    }

    @Override
    public List<String> classNames() {
        return spec.classNames();
    }

    @Override
    public long[] inputShape() {
        return spec.inputShape();
    }

    @Override
    public Set<Flip> labelChangingFlips() {
        return spec.labelChangingFlips();
    }

    @Override
    public List<FeatureColumn> columns() {
        return FeatureColumn.pixels(spec.featureSize());
    }

    /** Whether both splits hold as many examples as the published dataset (false for fixtures and other subsets). */
    public boolean isComplete() {
        return train.size() == spec.train().count() && test.size() == spec.test().count();
    }
}
