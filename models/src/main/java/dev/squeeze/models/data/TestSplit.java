package dev.squeeze.models.data;

/**
 * The test set of a dataset that brings none of its own (a CSV file, an image folder without {@code test/}): a
 * {@value #FRACTION} share of each class, chosen by a permutation with the constant seed {@link #SEED}.
 */
public final class TestSplit {

    /**
     * Share of the examples held out as the test set: a fifth, the same for tables and image folders, so that a
     * small dataset still tests on enough examples for its accuracy to mean something.
     */
    public static final double FRACTION = 0.2;
    /**
     * Seeds the test split. A constant rather than the training seed: changing {@code --seed} must not move examples
     * between train and test (a model would then be tested on examples another run trained on).
     */
    public static final long SEED = 4_180L;

    private TestSplit() {
    }

    /**
     * Which examples are test examples: of each class, the first {@code round(count * FRACTION)} in a fixed-seed
     * permutation. Stratified, so a small class is in the test set in its own proportion rather than by luck.
     */
    public static boolean[] stratified(int[] labels, int numClasses) {
        int[] quota = new int[numClasses];
        for (int label : labels) quota[label]++;
        for (int c = 0; c < numClasses; c++) quota[c] = (int) Math.round(quota[c] * FRACTION);
        boolean[] isTest = new boolean[labels.length];
        for (int i : TrainValSplit.permutation(labels.length, SEED)) {
            if (quota[labels[i]] > 0) {
                quota[labels[i]]--;
                isTest[i] = true;
            }
        }
        return isTest;
    }

    /** The indices where {@code mask} equals {@code value}, ascending (so each split keeps the source's order). */
    public static int[] indices(boolean[] mask, boolean value) {
        int count = 0;
        for (boolean b : mask) if (b == value) count++;
        int[] out = new int[count];
        for (int i = 0, k = 0; i < mask.length; i++) if (mask[i] == value) out[k++] = i;
        return out;
    }
}
