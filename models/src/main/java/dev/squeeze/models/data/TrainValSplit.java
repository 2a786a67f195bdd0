package dev.squeeze.models.data;

import java.util.Random;

/**
 * A validation set carved from the training set with a fixed seed. Never from test: the test set is
 * looked at once, at the end.
 */
public record TrainValSplit(LabeledData train, LabeledData validation) {

    /** Default share of the training set held out for validation. */
    public static final double DEFAULT_VALIDATION_FRACTION = 0.1;

    public static TrainValSplit carve(LabeledData all, double validationFraction, long seed) {
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validation fraction must lie in (0, 1), got " + validationFraction);
        }
        int n = all.size();
        int nVal = (int) Math.round(n * validationFraction);
        if (nVal < 1 || nVal >= n) {
            throw new IllegalArgumentException(n + " examples are too few to hold out " + validationFraction);
        }
        int[] order = permutation(n, seed);
        int[] val = new int[nVal];
        int[] train = new int[n - nVal];
        System.arraycopy(order, 0, val, 0, nVal);
        System.arraycopy(order, nVal, train, 0, n - nVal);
        java.util.Arrays.sort(val);
        java.util.Arrays.sort(train);
        return new TrainValSplit(all.select(train), all.select(val));
    }

    /** A Fisher-Yates permutation of 0..n-1 that depends only on {@code seed}. */
    public static int[] permutation(int n, long seed) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Random random = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        return order;
    }
}
