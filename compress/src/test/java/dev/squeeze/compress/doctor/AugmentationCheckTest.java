package dev.squeeze.compress.doctor;

import dev.squeeze.compress.train.Augmentation;
import dev.squeeze.compress.train.BatchSource;
import dev.squeeze.compress.train.Fixtures;
import dev.squeeze.compress.train.ShuffledBatches;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.models.data.DatasetRegistry;
import dev.squeeze.models.data.Flip;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The doctor's augmentation check on real (fixture) Fashion-MNIST batches, cut as training cuts them. */
class AugmentationCheckTest {
    private static final Set<Flip> FASHION = DatasetRegistry.get("fashion-mnist").labelChangingFlips();

    private static TrainParams augmenting(String... kinds) {
        return TrainParams.SETTINGS.with(TrainParams.of("mlp-tiny"), "augment", List.of(kinds));
    }

    private static ShuffledBatches plain(TrainParams params, TrainingData data) {
        return new ShuffledBatches(data.train(), params.batch(), params.seed());
    }

    @Test
    void trainingsOwnBatchesPassAndVerticalFlipsOfClothesAreAWarning() {
        TrainingData data = Fixtures.fashionMnist();
        TrainParams params = augmenting("flip", "crop");
        ShuffledBatches batches = ShuffledBatches.forTraining(params, data, null);
        CheckResult ok = AugmentationCheck.run(data, plain(params, data), batches, batches.augmentation(), FASHION, true);
        assertEquals(Verdict.PASS, ok.verdict(), ok.evidence());
        assertTrue(ok.evidence().contains("labels unchanged") && ok.evidence().contains("untouched"), ok.evidence());

        TrainParams upsideDown = augmenting("flip", "vflip");
        ShuffledBatches turned = ShuffledBatches.forTraining(upsideDown, data, null);
        CheckResult warned = AugmentationCheck.run(data, plain(upsideDown, data), turned, turned.augmentation(), FASHION,
                true);
        assertEquals(Verdict.WARN, warned.verdict(), warned.evidence());
        assertTrue(warned.evidence().contains("upside-down images change what its labels mean, so vflip teaches wrong "
                + "labels"), warned.evidence());
        assertTrue(warned.fix().contains("leave vflip out of --augment"), warned.fix());

        CheckResult digits = AugmentationCheck.run(data, plain(params, data), batches, batches.augmentation(),
                DatasetRegistry.get("mnist").labelChangingFlips(), true);
        assertEquals(Verdict.WARN, digits.verdict(), "a mirrored digit is no digit");
        CheckResult folder = AugmentationCheck.run(data, plain(params, data), batches, batches.augmentation(), Set.of(),
                false);
        assertEquals(Verdict.PASS, folder.verdict());
        assertTrue(folder.evidence().contains("look at a few flipped images"), folder.evidence());
    }

    @Test
    void anAugmentationThatChangesTheValidationImagesFails() {
        TrainingData data = Fixtures.fashionMnist();
        TrainParams params = augmenting("flip");
        ShuffledBatches real = ShuffledBatches.forTraining(params, data, null);
        // The bug: augmenting in place (here: brightening), into arrays evaluation also reads.
        BatchSource inPlace = new BatchSource() {
            @Override
            public int batchesPerEpoch() {
                return real.batchesPerEpoch();
            }

            @Override
            public DataSet batch(int epoch, int step) {
                float[] validation = data.validation().features();
                for (int i = 0; i < 784; i++) validation[i] += 0.1f;
                return real.batch(epoch, step);
            }
        };
        CheckResult result = AugmentationCheck.run(data, plain(params, data), inPlace, real.augmentation(), FASHION, true);
        assertEquals(Verdict.FAIL, result.verdict());
        assertTrue(result.evidence().contains("changed the validation split's stored images"), result.evidence());
    }

    @Test
    void anAugmentationThatIsNeverAppliedFails() {
        TrainingData data = Fixtures.fashionMnist();
        TrainParams params = augmenting("crop");
        Augmentation crop = ShuffledBatches.forTraining(params, data, null).augmentation();
        CheckResult result = AugmentationCheck.run(data, plain(params, data), plain(params, data), crop, FASHION, true);
        assertEquals(Verdict.FAIL, result.verdict());
        assertTrue(result.evidence().contains("identical with and without augmentation"), result.evidence());
    }
}
