package dev.squeeze.models.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static dev.squeeze.models.data.BadInputs.expectBadInput;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Loading cross-checks the four files against each other and the spec. */
class DatasetLoaderTest {

    private static final DatasetSpec FASHION = DatasetRegistry.get(DatasetRegistry.FASHION_MNIST);

    @TempDir
    Path dir;

    @Test
    void labelOutOfRangeNamesFileIndexAndValue() throws IOException {
        IdxFiles.copyFixtures(dir);
        Path labels = dir.resolve("t10k-labels-idx1-ubyte.gz");
        byte[] content = IdxFiles.readContent(labels);
        content[8 + 123] = 10; // one past the last class
        IdxFiles.write(labels, IdxFiles.gzip(content));

        expectBadInput(() -> DatasetLoader.read(FASHION, dir), labels.toString(),
                "label 10 at index 123 is outside 0..9");
    }

    @Test
    void imagesAndLabelsCountMismatchNamesBothFiles() throws IOException {
        IdxFiles.copyFixtures(dir);
        Path labels = dir.resolve("train-labels-idx1-ubyte.gz");
        IdxFiles.write(labels, IdxFiles.gzip(IdxFiles.labelsContent(new byte[1999])));

        expectBadInput(() -> DatasetLoader.read(FASHION, dir),
                dir.resolve("train-images-idx3-ubyte.gz") + " holds 2000 images but " + labels + " holds 1999 labels");
    }

    @Test
    void wrongImageSizeIsRejected() throws IOException {
        IdxFiles.copyFixtures(dir);
        Path images = dir.resolve("t10k-images-idx3-ubyte.gz");
        IdxFiles.write(images, IdxFiles.gzip(IdxFiles.imagesContent(500, 32, 32, new byte[500 * 32 * 32])));

        expectBadInput(() -> DatasetLoader.read(FASHION, dir), images.toString(),
                "images are 32x32 but Fashion-MNIST images are 28x28");
    }

    @Test
    void missingFileIsNamed() throws IOException {
        IdxFiles.copyFixtures(dir);
        Files.delete(dir.resolve("t10k-labels-idx1-ubyte.gz"));

        expectBadInput(() -> DatasetLoader.read(FASHION, dir), "t10k-labels-idx1-ubyte.gz is missing");
    }

    @Test
    void gunzippedCopiesLoadUnderTheirUncompressedNames() throws IOException {
        for (DatasetFile file : FASHION.files()) {
            IdxFiles.write(dir.resolve(file.uncompressedName()),
                    IdxFiles.readContent(IdxFiles.fixtureDir().resolve(file.fileName())));
        }
        ImageDataset gunzipped = DatasetLoader.read(FASHION, dir);
        ImageDataset original = DatasetLoader.read(FASHION, IdxFiles.fixtureDir());

        assertEquals(2000, gunzipped.train().size());
        assertArrayEquals(original.test().features(), gunzipped.test().features());
        assertArrayEquals(original.test().labels(), gunzipped.test().labels());
    }

    @Test
    void unknownDatasetNameListsTheKnownOnes() {
        expectBadInput(() -> DatasetLoader.load("cifar-10", dir), "unknown dataset 'cifar-10'",
                "fashion-mnist, mnist");
    }
}
