package dev.squeeze.models.data;

import java.util.ArrayList;
import java.util.List;

/**
 * One input feature and what kind of value it holds, which decides whether it may be standardised.
 *
 * @param name   for messages: a CSV column name, {@code island=Dream} for a one-hot column, {@code pixel 17}
 * @param source the source column a one-hot feature was expanded from (its own name otherwise)
 */
public record FeatureColumn(String name, String source, Kind kind) {

    public enum Kind {
        /** An image pixel: one mean and std for all of them. */
        PIXEL,
        /** A measured number: standardised with its own mean and std. */
        NUMERIC,
        /** A 0/1 column (e.g. sex): never standardised. */
        BINARY,
        /** One column of a one-hot encoded category (e.g. island=Dream): never standardised. */
        ONE_HOT
    }

    /** {@code n} pixel features. */
    public static List<FeatureColumn> pixels(int n) {
        List<FeatureColumn> columns = new ArrayList<>(n);
        for (int j = 0; j < n; j++) columns.add(new FeatureColumn("pixel " + j, "pixels", Kind.PIXEL));
        return List.copyOf(columns);
    }

    /** Whether standardising this feature is a bug. */
    public boolean categorical() {
        return kind == Kind.BINARY || kind == Kind.ONE_HOT;
    }
}
