package dev.squeeze.compress.train;

import dev.squeeze.models.data.DatasetLoader;

import java.nio.file.Files;
import java.nio.file.Path;

/** The real Fashion-MNIST subset committed under models/src/test/fixtures (2,000 train / 500 test). */
public final class Fixtures {
    private Fixtures() {
    }

    public static Path fashionMnistDir() {
        String root = System.getProperty("squeeze.fixtures");
        if (root == null) throw new IllegalStateException("system property squeeze.fixtures is not set (run through Maven)");
        Path dir = Path.of(root, "fashion-mnist");
        if (!Files.isDirectory(dir)) throw new IllegalStateException("no fixtures at " + dir);
        return dir;
    }

    public static TrainingData fashionMnist() {
        return TrainingData.prepare(DatasetLoader.load("fashion-mnist", fashionMnistDir()),
                TrainParams.DEFAULT_VALIDATION_FRACTION);
    }
}
