package dev.squeeze.compress.train;

import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Flip;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --augment} on real (fixture) Fashion-MNIST batches: what each change does, and that only batches change. */
class AugmentationTest {
    private static TrainingData data;

    @BeforeAll
    static void load() {
        data = Fixtures.fashionMnist();
    }

    private static Augmentation augmentation(String... kinds) {
        return Augmentation.of(List.of(kinds), data.inputShape(), data.normalization(), data.dataset());
    }

    /** The first {@code n} training images as a batch. */
    private static INDArray batch(int n) {
        return data.train().toDataSet(null, 0, n).getFeatures();
    }

    private static float[] row(float[] x, int e) {
        return Arrays.copyOfRange(x, e * 784, (e + 1) * 784);
    }

    private static float[] mirrored(float[] image, boolean leftRight) {
        float[] out = new float[784];
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                out[y * 28 + x] = leftRight ? image[y * 28 + 27 - x] : image[(27 - y) * 28 + x];
            }
        }
        return out;
    }

    /** {@code image} shifted so that output (y, x) shows (y + dy, x + dx), the uncovered edge {@code black}. */
    private static float[] shifted(float[] image, int dy, int dx, float black) {
        float[] out = new float[784];
        for (int y = 0; y < 28; y++) {
            for (int x = 0; x < 28; x++) {
                int sy = y + dy;
                int sx = x + dx;
                out[y * 28 + x] = sy < 0 || sy > 27 || sx < 0 || sx > 27 ? black : image[sy * 28 + sx];
            }
        }
        return out;
    }

    @Test
    void flipMirrorsAboutHalfTheImagesAndLeavesTheBatchItWasGiven() {
        INDArray features = batch(200);
        float[] before = features.dup().data().asFloat();
        float[] out = augmentation("flip").apply(features, 1).data().asFloat();
        assertArrayEquals(before, features.data().asFloat(), "the batch it was given is unchanged");
        int flipped = 0;
        for (int e = 0; e < 200; e++) {
            float[] source = row(before, e);
            float[] got = row(out, e);
            if (Arrays.equals(got, mirrored(source, true)) && !Arrays.equals(got, source)) {
                flipped++;
            } else {
                assertArrayEquals(source, got, "example " + e + ": mirrored or as it was");
            }
        }
        assertTrue(flipped > 70 && flipped < 130, flipped + " of 200 mirrored, about half");
    }

    @Test
    void vflipTurnsImagesUpsideDown() {
        float[] before = batch(100).data().asFloat();
        float[] out = augmentation("vflip").apply(batch(100), 2).data().asFloat();
        int turned = 0;
        for (int e = 0; e < 100; e++) {
            if (Arrays.equals(row(out, e), mirrored(row(before, e), false))) turned++;
            else assertArrayEquals(row(before, e), row(out, e));
        }
        assertTrue(turned > 25 && turned < 75, turned + " of 100 upside down");
    }

    @Test
    void cropShiftsByUpToThePaddingFillingWithNormalisedBlack() {
        Augmentation crop = augmentation("crop");
        assertEquals(3, Augmentation.padding(28, 28), "an eighth of 28");
        float black = (0f - data.normalization().mean()[0]) / data.normalization().std()[0];
        float[] before = batch(100).data().asFloat();
        float[] out = crop.apply(batch(100), 3).data().asFloat();
        int moved = 0;
        for (int e = 0; e < 100; e++) {
            boolean explained = false;
            for (int dy = -3; dy <= 3 && !explained; dy++) {
                for (int dx = -3; dx <= 3 && !explained; dx++) {
                    if (Arrays.equals(row(out, e), shifted(row(before, e), dy, dx, black))) {
                        explained = true;
                        if (dy != 0 || dx != 0) moved++;
                    }
                }
            }
            assertTrue(explained, "example " + e + " is its image shifted by at most 3 pixels");
        }
        assertTrue(moved > 80, moved + " of 100 moved (1 in 49 keeps its place)");
    }

    @Test
    void theChangesDependOnTheBatchSeedOnly() {
        Augmentation both = augmentation("flip", "crop");
        assertArrayEquals(both.apply(batch(60), 42).data().asFloat(), both.apply(batch(60), 42).data().asFloat());
        assertFalse(Arrays.equals(both.apply(batch(60), 42).data().asFloat(), both.apply(batch(60), 43).data().asFloat()));
        assertEquals(Set.of(Flip.HORIZONTAL), both.flips());
    }

    @Test
    void tablesAreRefused() {
        BadInputException e = assertThrows(BadInputException.class,
                () -> Augmentation.of(List.of("flip"), new long[]{7}, null, "penguins.csv"));
        assertTrue(e.getMessage().contains("penguins.csv is a table of 7 features"), e.getMessage());
        assertNull(Augmentation.of(null, new long[]{7}, null, "penguins.csv"), "none asked for, none made");
    }

    @Test
    void trainingBatchesAreAugmentedWithTheirLabelsAndTheDataIsNot() {
        TrainParams params = TrainParams.of("mlp-tiny").withSeed(9);
        params = TrainParams.SETTINGS.with(params, "augment", List.of("flip", "crop"));
        float[] train = data.train().features().clone();
        ShuffledBatches augmented = ShuffledBatches.forTraining(params, data, null);
        ShuffledBatches plain = new ShuffledBatches(data.train(), params.batch(), params.seed());
        int changed = 0;
        for (int step = 0; step < 5; step++) {
            DataSet a = augmented.batch(2, step);
            DataSet p = plain.batch(2, step);
            assertEquals(p.getLabels(), a.getLabels(), "the same examples, the same labels");
            if (!p.getFeatures().equals(a.getFeatures())) changed++;
        }
        assertEquals(5, changed, "every batch holds changed images");
        assertArrayEquals(train, data.train().features(), "the stored training images are never changed");
        // A resumed run cuts its batches with a new source: the same epoch and step give the same images.
        assertEquals(augmented.batch(3, 4).getFeatures(), ShuffledBatches.forTraining(params, data, null).batch(3, 4)
                .getFeatures());
        assertNotEquals(augmented.batch(3, 4).getFeatures(), augmented.batch(4, 4).getFeatures());
        assertNull(ShuffledBatches.forTraining(TrainParams.of("mlp-tiny"), data, null).augmentation());
    }
}
