package dev.squeeze.models.data;

import dev.squeeze.core.BadInputException;

import java.nio.file.Path;

/**
 * Loads a named image dataset: locates its directory ({@link DatasetLocator}), reads the IDX files
 * ({@link IdxReader}) and cross-checks them against each other and the {@link DatasetSpec}.
 */
public final class DatasetLoader {

    private DatasetLoader() {
    }

    /**
     * The dataset {@code name} from {@code dataDirOrNull} or, when that is {@code null}, wherever
     * {@link DatasetLocator#fromEnvironment()} finds (or downloads) it.
     */
    public static ImageDataset load(String name, Path dataDirOrNull) {
        return load(name, dataDirOrNull, DatasetLocator.fromEnvironment());
    }

    /** The dataset {@code name}, located by {@code locator}. */
    public static ImageDataset load(String name, Path dataDirOrNull, DatasetLocator locator) {
        DatasetSpec spec = DatasetRegistry.get(name);
        return read(spec, locator.locate(spec, dataDirOrNull));
    }

    /**
     * Reads {@code spec}'s files from {@code dir} as they are, without locating or hash-verifying them:
     * a subset such as the test fixtures loads as well as the full dataset.
     */
    public static ImageDataset read(DatasetSpec spec, Path dir) {
        return new ImageDataset(spec, readSplit(spec, spec.train(), dir), readSplit(spec, spec.test(), dir), dir);
    }

    private static LabeledData readSplit(DatasetSpec spec, DatasetSpec.Split split, Path dir) {
        Path imagesFile = require(spec, split.images(), dir);
        Path labelsFile = require(spec, split.labels(), dir);

        IdxReader.Images images = IdxReader.readImages(imagesFile);
        if (images.rows() != spec.height() || images.cols() != spec.width()) {
            throw new BadInputException(imagesFile + ": images are " + images.rows() + "x" + images.cols() + " but "
                    + spec.title() + " images are " + spec.height() + "x" + spec.width()
                    + "; is this the right dataset? point --data at a copy of " + spec.title());
        }
        int[] labels = IdxReader.readLabels(labelsFile);
        if (labels.length != images.count()) {
            throw new BadInputException(imagesFile + " holds " + images.count() + " images but " + labelsFile
                    + " holds " + labels.length + " labels; the two must come from the same copy of "
                    + spec.title() + ": re-download them or point --data at a complete copy");
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= spec.numClasses()) {
                throw new BadInputException(labelsFile + ": label " + labels[i] + " at index " + i + " is outside 0.."
                        + (spec.numClasses() - 1) + " (" + spec.title() + " has " + spec.numClasses()
                        + " classes); the file is corrupt or from another dataset: re-download it");
            }
        }
        return new LabeledData(images.pixels(), labels, spec.featureSize(), spec.numClasses());
    }

    private static Path require(DatasetSpec spec, DatasetFile file, Path dir) {
        return file.find(dir).orElseThrow(() -> new BadInputException(dir + ": " + file.fileName()
                + " is missing; a " + spec.title() + " directory holds " + spec.fileNames()));
    }
}
