package dev.squeeze.compress.doctor;

import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.FeatureColumn;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.Normalization;
import dev.squeeze.models.data.TrainValSplit;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Normalization leakage: the statistics must come from the training split alone, and in tables the
 * categorical and binary columns must never be standardised. Given the normalization a pipeline used,
 * finds which data it was fitted on by refitting on each candidate (training split; training set with
 * validation; training with test; test alone) and comparing.
 */
final class NormalizationCheck {
    static final String NAME = "normalization leakage";
    private static final double TOLERANCE = 1e-4;

    private NormalizationCheck() {
    }

    /**
     * @param split the raw (not normalised) train/validation split the pipeline trains on
     * @param used  the normalization the pipeline applied
     */
    static CheckResult run(Dataset dataset, TrainValSplit split, Normalization used) {
        List<FeatureColumn> columns = dataset.columns();
        CheckResult source = fittedOn(dataset, split, used);
        Set<String> standardisedCategories = new LinkedHashSet<>();
        List<String> unscaledNumbers = new ArrayList<>();
        for (int j = 0; j < columns.size(); j++) {
            FeatureColumn c = columns.get(j);
            if (c.categorical() && used.standardizes(j)) {
                standardisedCategories.add(String.format(Locale.ROOT, "%s (%s: 0/1 became %.2f/%.2f)", c.name(),
                        c.kind().name().toLowerCase(Locale.ROOT).replace('_', '-'),
                        (0 - used.mean()[j]) / used.std()[j], (1 - used.mean()[j]) / used.std()[j]));
            }
            if (c.kind() == FeatureColumn.Kind.NUMERIC && !used.standardizes(j)) unscaledNumbers.add(c.name());
        }
        if (!standardisedCategories.isEmpty()) {
            source = source.and(CheckResult.fail(NAME, "categorical columns standardised: "
                            + String.join(", ", standardisedCategories),
                    "standardise only the numeric columns (" + numericNames(columns) + "); leave binary and "
                            + "one-hot columns as 0/1"));
        }
        if (!unscaledNumbers.isEmpty()) {
            source = source.and(CheckResult.warn(NAME, "numeric columns left unscaled: " + String.join(", ", unscaledNumbers),
                    "standardise numeric columns with training-split statistics"));
        }
        return source;
    }

    private static CheckResult fittedOn(Dataset dataset, TrainValSplit split, Normalization used) {
        Normalization trainOnly = dataset.fitNormalization(split.train());
        String what = describe(dataset, trainOnly);
        if (close(used, trainOnly)) {
            return CheckResult.pass(NAME, String.format(Locale.ROOT, "%s from the %,d training-split examples only; "
                    + "validation and test excluded", what, split.train().size()));
        }
        String usedDesc = describe(dataset, used);
        String fix = "fit the statistics on the training split only, then apply them to validation and test";
        LabeledData trainAndVal = split.train().concat(split.validation());
        if (close(used, dataset.fitNormalization(trainAndVal.concat(dataset.test())))
                || close(used, dataset.fitNormalization(split.train().concat(dataset.test())))) {
            return CheckResult.fail(NAME, "statistics include the test set (" + usedDesc + " vs " + what
                    + " on the training split alone): the model has seen test data", fix);
        }
        if (close(used, dataset.fitNormalization(dataset.test()))) {
            return CheckResult.fail(NAME, "statistics come from the test set (" + usedDesc + " vs " + what
                    + " on the training split)", fix);
        }
        if (close(used, dataset.fitNormalization(trainAndVal))) {
            return CheckResult.fail(NAME, "statistics include the validation split (" + usedDesc + " vs " + what
                    + " on the training split alone): validation accuracy is optimistic", fix);
        }
        return CheckResult.warn(NAME, "statistics (" + usedDesc + ") match no split of the data (training split: "
                + what + ")", "compute them on the training split; saved statistics from another dataset do not fit");
    }

    private static String describe(Dataset dataset, Normalization n) {
        boolean pixels = dataset.columns().stream().allMatch(c -> c.kind() == FeatureColumn.Kind.PIXEL);
        long[] shape = dataset.inputShape();
        int channels = shape.length == 3 ? (int) shape[0] : 1;
        if (pixels && channels > 1 && n.featureSize() % channels == 0) {
            // One pair per channel (an image folder's colour channels): each channel's first pixel shows it.
            int plane = n.featureSize() / channels;
            List<String> means = new ArrayList<>();
            List<String> stds = new ArrayList<>();
            for (int c = 0; c < channels; c++) {
                means.add(String.format(Locale.ROOT, "%.3f", n.mean()[c * plane]));
                stds.add(String.format(Locale.ROOT, "%.3f", n.std()[c * plane]));
            }
            return "per channel mean " + String.join("/", means) + ", std " + String.join("/", stds);
        }
        if (pixels) return String.format(Locale.ROOT, "mean %.3f, std %.3f", n.mean()[0], n.std()[0]);
        List<String> parts = new ArrayList<>();
        for (int j = 0; j < n.featureSize() && parts.size() < 2; j++) {
            if (n.standardizes(j)) {
                parts.add(String.format(Locale.ROOT, "%s mean %.3f std %.3f", dataset.columns().get(j).name(),
                        n.mean()[j], n.std()[j]));
            }
        }
        return parts.isEmpty() ? "no column standardised" : String.join(", ", parts);
    }

    private static String numericNames(List<FeatureColumn> columns) {
        List<String> names = columns.stream().filter(c -> c.kind() == FeatureColumn.Kind.NUMERIC).map(FeatureColumn::name).toList();
        return names.isEmpty() ? "none here" : String.join(", ", names);
    }

    static boolean close(Normalization a, Normalization b) {
        if (a.featureSize() != b.featureSize()) return false;
        for (int j = 0; j < a.featureSize(); j++) {
            if (!close(a.mean()[j], b.mean()[j]) || !close(a.std()[j], b.std()[j])) return false;
        }
        return true;
    }

    private static boolean close(float a, float b) {
        return Math.abs(a - b) <= TOLERANCE * Math.max(1, Math.abs(a));
    }
}
