package dev.squeeze.models.data;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed Fashion-MNIST subset, and (where Debian's package is installed) the full dataset it was
 * cut from.
 */
class FixturesTest {

    private static final DatasetSpec FASHION = DatasetRegistry.get(DatasetRegistry.FASHION_MNIST);
    private static final Path SYSTEM_COPY = DatasetLocator.DEFAULT_SYSTEM_ROOT.resolve(FASHION.name());

    @TempDir
    Path dir;

    @Test
    void fixturesLoadAs2000TrainAnd500TestExamples() {
        ImageDataset data = DatasetLoader.load(FASHION.name(), IdxFiles.fixtureDir(),
                new DatasetLocator(null, null, null));

        assertEquals(2000, data.train().size());
        assertEquals(500, data.test().size());
        assertEquals(784, data.train().featureSize());
        assertEquals(10, data.train().numClasses());
        assertFalse(data.isComplete(), "a subset is not the complete dataset");
        for (LabeledData split : new LabeledData[]{data.train(), data.test()}) {
            float min = Float.MAX_VALUE;
            float max = -Float.MAX_VALUE;
            for (float v : split.features()) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            assertEquals(0f, min, "raw pixels start at 0");
            assertEquals(255f, max, "raw pixels are not scaled");
            assertTrue(Arrays.stream(split.labels()).allMatch(l -> l >= 0 && l <= 9));
        }
        assertTrue(Arrays.stream(data.train().classCounts()).allMatch(c -> c > 150), "every class is present");
    }

    /** The content hashes pinned in {@link IdxFiles#fixtureSpec()} and the fixtures README. */
    @Test
    void fixturesAreTheCommittedBytes() throws IOException {
        for (DatasetFile file : IdxFiles.fixtureSpec().files()) {
            assertEquals(file.sha256(), file.sha256Of(IdxFiles.fixtureDir().resolve(file.fileName())),
                    file.fileName());
        }
    }

    /** Runs where Debian's dataset-fashion-mnist is installed (CI installs it): see the system-dataset profile. */
    @Test
    @Tag("system-dataset")
    void recuttingTheSystemCopyReproducesTheFixtures() throws IOException {
        FixtureCutter.cut(SYSTEM_COPY, dir, FixtureCutter.TRAIN_EXAMPLES, FixtureCutter.TEST_EXAMPLES);
        for (DatasetFile file : FASHION.files()) {
            assertArrayEquals(Files.readAllBytes(IdxFiles.fixtureDir().resolve(file.fileName())),
                    Files.readAllBytes(dir.resolve(file.fileName())), file.fileName());
        }
    }

    @Test
    @Tag("system-dataset")
    void systemCopyMatchesTheRegisteredHashesAndLoadsComplete() throws IOException {
        for (DatasetFile file : FASHION.files()) {
            assertEquals(file.sha256(), file.sha256Of(SYSTEM_COPY.resolve(file.fileName())), file.fileName());
        }
        ImageDataset full = DatasetLoader.load(FASHION.name(), null,
                new DatasetLocator(null, DatasetLocator.DEFAULT_SYSTEM_ROOT, null));
        assertEquals(SYSTEM_COPY, full.source());
        assertEquals(60_000, full.train().size());
        assertEquals(10_000, full.test().size());
        assertTrue(full.isComplete());
        ImageDataset fixtures = DatasetLoader.read(FASHION, IdxFiles.fixtureDir());
        assertArrayEquals(Arrays.copyOf(full.test().labels(), 500), fixtures.test().labels(),
                "fixtures are the first examples, in order");
    }
}
