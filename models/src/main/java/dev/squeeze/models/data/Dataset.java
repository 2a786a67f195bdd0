package dev.squeeze.models.data;

import java.util.List;
import java.util.Set;

/**
 * A loaded dataset of any kind (images, tables): its train and test splits, its classes and the shape of
 * one example, and how its features may be normalised.
 */
public interface Dataset {

    /** Name as recorded in the ledger, e.g. {@code fashion-mnist} or {@code penguins.csv}. */
    String name();

    /** One name per label value, in label order. */
    List<String> classNames();

    /** One example's shape: {@code {features}} or {@code {channels, height, width}}. */
    long[] inputShape();

    LabeledData train();

    LabeledData test();

    /**
     * What each feature is; the normalization and its checks follow from it. Images have one pixel column
     * kind for all features; tables say which columns are numeric, binary or one-hot.
     */
    List<FeatureColumn> columns();

    /**
     * The flips after which an example no longer shows what its label says (a mirrored digit), so augmenting the
     * training set with them teaches wrong labels; empty when no flip does, or when the dataset does not say (an
     * image folder: only its owner knows). Tables are never flipped.
     */
    default Set<Flip> labelChangingFlips() {
        return Set.of();
    }

    /** The normalization this kind of data wants, fitted on {@code trainSplit} (never on validation or test). */
    default Normalization fitNormalization(LabeledData trainSplit) {
        List<FeatureColumn> columns = columns();
        if (columns.stream().allMatch(c -> c.kind() == FeatureColumn.Kind.PIXEL)) return Normalization.global(trainSplit);
        boolean[] standardize = new boolean[columns.size()];
        for (int j = 0; j < standardize.length; j++) standardize[j] = columns.get(j).kind() == FeatureColumn.Kind.NUMERIC;
        return Normalization.perFeature(trainSplit, standardize);
    }
}
