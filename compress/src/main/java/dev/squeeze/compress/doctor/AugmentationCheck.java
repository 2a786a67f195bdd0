package dev.squeeze.compress.doctor;

import dev.squeeze.compress.train.Augmentation;
import dev.squeeze.compress.train.BatchSource;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.models.data.Flip;
import dev.squeeze.models.data.LabeledData;
import org.nd4j.linalg.dataset.DataSet;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Augmentation ({@code --augment}), the talk's way: it changes training batches and nothing else. The training
 * batches are cut both ways, as training cuts them and without augmentation (the same shuffle), and compared row by
 * row: the augmented ones must differ in their images and not in their labels. The validation, test and training
 * splits that evaluation reads must hold the same values after those batches as before (an augmentation that
 * changed them in place would train and measure on changed images). And a flip the dataset says changes what its
 * labels mean (a mirrored digit) is a warning.
 */
final class AugmentationCheck {
    static final String NAME = "augmentation";
    /** Examples compared between the augmented and the plain batches. */
    static final int SAMPLE = 2_000;

    private AugmentationCheck() {
    }

    /**
     * @param plain        the training batches without augmentation (same data, batch size and seed)
     * @param augmented    the training batches as training cuts them
     * @param augmentation what {@code augmented} is meant to do
     * @param labelChanging the flips the dataset says change its labels ({@link dev.squeeze.models.data.Dataset#labelChangingFlips()})
     */
    static CheckResult run(TrainingData data, BatchSource plain, BatchSource augmented, Augmentation augmentation,
                           Set<Flip> labelChanging, boolean labelsDeclared) {
        float[][] before = {data.train().features().clone(), data.validation().features().clone(),
                data.test().features().clone()};
        int compared = 0;
        int changed = 0;
        int relabelled = 0;
        int batches = 0;
        for (int step = 0; step < augmented.batchesPerEpoch() && compared < SAMPLE; step++, batches++) {
            DataSet a = augmented.batch(1, step);
            DataSet p = plain.batch(1, step);
            float[] ax = a.getFeatures().dup('c').data().asFloat();
            float[] px = p.getFeatures().dup('c').data().asFloat();
            float[] ay = a.getLabels().dup('c').data().asFloat();
            float[] py = p.getLabels().dup('c').data().asFloat();
            int rows = (int) p.getFeatures().size(0);
            int k = ax.length / Math.max(1, rows);
            int classes = py.length / Math.max(1, rows);
            for (int r = 0; r < rows && compared < SAMPLE; r++, compared++) {
                if (!Arrays.equals(ax, r * k, (r + 1) * k, px, r * k, (r + 1) * k)) changed++;
                if (!Arrays.equals(ay, r * classes, (r + 1) * classes, py, r * classes, (r + 1) * classes)) relabelled++;
            }
        }
        String where = String.format(Locale.ROOT, "%,d training examples from %d batches of epoch 1", compared, batches);
        String[] splits = {"training", "validation", "test"};
        LabeledData[] after = {data.train(), data.validation(), data.test()};
        for (int s = 0; s < splits.length; s++) {
            if (!Arrays.equals(before[s], after[s].features())) {
                return CheckResult.fail(NAME, "cutting the augmented training batches changed the " + splits[s]
                                + " split's stored images: evaluation would measure augmented images",
                        "augment a copy of each training batch, never the stored data");
            }
        }
        if (relabelled > 0) {
            return CheckResult.fail(NAME, String.format(Locale.ROOT, "%,d of %s carry another label once augmented",
                    relabelled, where), "augmentation changes images only; keep each batch's labels as they were cut");
        }
        if (changed == 0) {
            return CheckResult.fail(NAME, where + " are identical with and without augmentation ("
                    + augmentation.describe() + "): the training batches are not augmented",
                    "apply the augmentation to each training batch as it is cut");
        }
        String evidence = String.format(Locale.ROOT, "%s: %,d of %s changed (%.0f%%), labels unchanged; the training, "
                        + "validation and test splits that evaluation reads are untouched", augmentation.describe(),
                changed, where, 100.0 * changed / compared);
        Set<Flip> wrong = EnumSet.noneOf(Flip.class);
        wrong.addAll(augmentation.flips());
        wrong.retainAll(labelChanging);
        if (!wrong.isEmpty()) {
            List<String> names = augmentation.kinds().stream().filter(kind -> wrong.contains(kind.flip()))
                    .map(Augmentation.Kind::label).sorted().toList();
            return CheckResult.warn(NAME, evidence + "; but the dataset says " + flipWords(wrong) + " change what its "
                            + "labels mean, so " + String.join(" and ", names) + " teach" + (names.size() == 1 ? "es" : "")
                            + " wrong labels",
                    "leave " + String.join(", ", names) + " out of " + TrainParams.mention("augment"));
        }
        if (!augmentation.flips().isEmpty() && !labelsDeclared) {
            evidence += "; whether a flip changes what a label means is only known for the registered datasets: look "
                    + "at a few flipped images of each class";
        }
        return CheckResult.pass(NAME, evidence);
    }

    private static String flipWords(Set<Flip> flips) {
        return String.join(" and ", flips.stream().sorted()
                .map(f -> f == Flip.HORIZONTAL ? "left-right mirror images" : "upside-down images").toList());
    }
}
