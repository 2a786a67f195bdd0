package dev.squeeze.compress.doctor;

import dev.squeeze.models.data.FeatureIndex;
import dev.squeeze.models.data.LabeledData;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Labels: per-class counts and the imbalance ratio of each split, labels out of range, and test examples
 * that are exact copies of training examples (they make test accuracy optimistic).
 */
final class LabelsCheck {
    static final String NAME = "labels";
    /** Largest class over smallest class above this is worth a warning. */
    static final double IMBALANCE_WARN = 3;
    /** More than this share of test examples copied from training fails. */
    static final double DUPLICATE_FAIL = 0.05;

    private LabelsCheck() {
    }

    static CheckResult run(int numClasses, LabeledData train, LabeledData validation, LabeledData test) {
        List<CheckResult> findings = new ArrayList<>();
        List<String> balance = new ArrayList<>();
        String[] names = {"train", "val", "test"};
        LabeledData[] splits = {train, validation, test};
        for (int s = 0; s < splits.length; s++) {
            int[] counts = new int[numClasses];
            int outOfRange = 0;
            for (int label : splits[s].labels()) {
                if (label < 0 || label >= numClasses) outOfRange++;
                else counts[label]++;
            }
            int min = Integer.MAX_VALUE;
            int max = 0;
            List<Integer> missing = new ArrayList<>();
            for (int c = 0; c < numClasses; c++) {
                min = Math.min(min, counts[c]);
                max = Math.max(max, counts[c]);
                if (counts[c] == 0) missing.add(c);
            }
            double ratio = min == 0 ? Double.POSITIVE_INFINITY : (double) max / min;
            balance.add(String.format(Locale.ROOT, "%s %,d-%,d per class (%.2fx)", names[s], min, max, ratio));
            if (outOfRange > 0) {
                findings.add(CheckResult.fail(NAME, String.format(Locale.ROOT, "%,d %s labels outside 0..%d",
                        outOfRange, names[s], numClasses - 1), "fix the label encoding: classes must be 0..classes-1"));
            }
            if (!missing.isEmpty()) {
                findings.add(CheckResult.warn(NAME, names[s] + " has no example of classes " + missing,
                        "a split without some classes cannot measure them; split by class (stratify)"));
            } else if (ratio > IMBALANCE_WARN) {
                findings.add(CheckResult.warn(NAME, String.format(Locale.ROOT, "%s classes are imbalanced %.1f to 1",
                        names[s], ratio), "report per-class accuracy (squeeze eval) and consider class weights or resampling"));
            }
        }

        FeatureIndex trainByContent = new FeatureIndex(train);
        int copies = 0;
        int conflicting = 0;
        for (int t = 0; t < test.size(); t++) {
            List<Integer> matches = trainByContent.find(test.features(), t * test.featureSize());
            boolean copy = !matches.isEmpty();
            boolean sameLabel = false;
            for (int i : matches) sameLabel |= train.labels()[i] == test.labels()[t];
            if (copy) copies++;
            if (copy && !sameLabel) conflicting++;
        }
        double share = test.size() == 0 ? 0 : (double) copies / test.size();
        String duplicates = String.format(Locale.ROOT, "%,d test examples (%.2f%%) are exact copies of training examples%s",
                copies, 100 * share, conflicting > 0 ? String.format(Locale.ROOT, ", %,d of them with another label", conflicting) : "");
        if (share > DUPLICATE_FAIL) {
            findings.add(CheckResult.fail(NAME, duplicates, "remove test examples that also appear in training: "
                    + "test accuracy measures memory, not generalisation"));
        } else if (copies > 0) {
            findings.add(CheckResult.warn(NAME, duplicates, "test accuracy is slightly optimistic; remove the copies "
                    + "from the test set for a clean number"));
        }

        CheckResult result = CheckResult.pass(NAME, numClasses + " classes; " + String.join("; ", balance)
                + (copies == 0 ? "; no test example copies a training example" : ""));
        for (CheckResult finding : findings) result = result.and(finding);
        return result;
    }
}
