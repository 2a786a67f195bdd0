package dev.squeeze.compress.doctor;

import dev.squeeze.compress.train.BatchSource;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.models.data.FeatureIndex;
import dev.squeeze.models.data.LabeledData;
import org.nd4j.linalg.dataset.DataSet;

import java.util.List;
import java.util.Locale;

/**
 * Alignment: after the pipeline's shuffling and batching, does every example still carry its own label?
 * Each batch row is looked up in the source data by its exact features (not by any index the pipeline
 * reports, which a buggy pipeline would report wrong) and its label compared with the source's.
 */
final class AlignmentCheck {
    static final String NAME = "feature/label alignment";
    static final int SAMPLE = 2_000;

    private AlignmentCheck() {
    }

    static CheckResult run(LabeledData source, BatchSource batches) {
        FeatureIndex bySource = new FeatureIndex(source);
        int k = source.featureSize();
        int checked = 0;
        int mismatched = 0;
        int unknown = 0;
        int inSourceOrder = 0;
        int batchesSeen = 0;
        for (int step = 0; step < batches.batchesPerEpoch() && checked < SAMPLE; step++, batchesSeen++) {
            DataSet batch = batches.batch(1, step);
            float[] x = batch.getFeatures().dup('c').data().asFloat();
            float[][] y = batch.getLabels().toFloatMatrix();
            for (int r = 0; r < y.length && checked < SAMPLE; r++, checked++) {
                int label = Evaluator.argmax(y[r]);
                List<Integer> matches = bySource.find(x, r * k);
                boolean found = !matches.isEmpty();
                boolean paired = false;
                for (int i : matches) {
                    if (source.labels()[i] == label) paired = true;
                    if (i == checked) inSourceOrder++;
                }
                if (!found) unknown++;
                else if (!paired) mismatched++;
            }
        }
        String where = String.format(Locale.ROOT, "%,d examples from %d batches of epoch 1", checked, batchesSeen);
        if (mismatched > 0) {
            return CheckResult.fail(NAME, String.format(Locale.ROOT,
                            "%,d of %s carry a label their features never had in the source data (%.1f%%): features "
                                    + "and labels were shuffled apart", mismatched, where, 100.0 * mismatched / checked),
                    "shuffle with one index permutation applied to features and labels together "
                            + "(X, y = shuffle(X, y)), never each on its own");
        }
        if (unknown > 0) {
            return CheckResult.fail(NAME, String.format(Locale.ROOT,
                            "%,d of %s have features found nowhere in the source data", unknown, where),
                    "the pipeline alters features between the source and the batches (augmentation, or a bug in "
                            + "batching); compare a batch with the rows it came from");
        }
        if (inSourceOrder == checked) {
            return CheckResult.warn(NAME, where + " are paired, but in source order: the data is not shuffled",
                    "shuffle every epoch; class-sorted data in source order trains badly");
        }
        return CheckResult.pass(NAME, where + " matched their source rows: features and labels still paired");
    }
}
