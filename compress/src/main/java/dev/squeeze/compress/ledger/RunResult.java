package dev.squeeze.compress.ledger;

/**
 * What a finished run measured. Every field may be null (an export run has no training accuracy).
 *
 * @param trainAcc      accuracy on the training set, a fraction in [0, 1]
 * @param valAcc        accuracy on the validation split, a fraction in [0, 1]
 * @param testAcc       accuracy on the test set, a fraction in [0, 1]
 * @param params        number of weights and biases
 * @param nonzeroParams how many of them are not zero (after pruning, fewer than {@code params})
 * @param fileBytes     size of the run's model file on disk
 * @param details       stage-specific measurements as a JSON object (e.g. a pruning level's per-layer
 *                      sparsity, early-stop iteration and time), or null
 */
public record RunResult(Double trainAcc, Double valAcc, Double testAcc,
                        Long params, Long nonzeroParams, Long fileBytes, String details) {

    public RunResult {
        checkFraction("train accuracy", trainAcc);
        checkFraction("validation accuracy", valAcc);
        checkFraction("test accuracy", testAcc);
        checkCount("params", params);
        checkCount("nonzero params", nonzeroParams);
        checkCount("file bytes", fileBytes);
        if (params != null && nonzeroParams != null && nonzeroParams > params) {
            throw new IllegalArgumentException("nonzero params " + nonzeroParams + " exceed params " + params);
        }
    }

    /** Accuracies only; add sizes with {@link #withSizes}. */
    public static RunResult of(Double trainAcc, Double valAcc, Double testAcc) {
        return new RunResult(trainAcc, valAcc, testAcc, null, null, null, null);
    }

    public RunResult withSizes(Long params, Long nonzeroParams, Long fileBytes) {
        return new RunResult(trainAcc, valAcc, testAcc, params, nonzeroParams, fileBytes, details);
    }

    public RunResult withDetails(String json) {
        return new RunResult(trainAcc, valAcc, testAcc, params, nonzeroParams, fileBytes, json);
    }

    // A percentage passed where a fraction belongs would sort and print as nonsense, so refuse it here.
    private static void checkFraction(String what, Double value) {
        if (value != null && !(value >= 0 && value <= 1)) {
            throw new IllegalArgumentException(what + " is a fraction in [0, 1], got " + value);
        }
    }

    private static void checkCount(String what, Long value) {
        if (value != null && value < 0) throw new IllegalArgumentException(what + " cannot be negative, got " + value);
    }
}
