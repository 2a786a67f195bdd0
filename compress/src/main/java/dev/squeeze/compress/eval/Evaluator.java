package dev.squeeze.compress.eval;

import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.zoo.Network;

import java.util.List;

/**
 * Evaluates from {@code output()} in inference mode (no dropout), in chunks to bound memory. Works for any
 * {@link Classifier}: a network whose output rows are class probabilities.
 */
public final class Evaluator {
    private static final int CHUNK = 1000;
    private static final double MIN_PROBABILITY = 1e-12;

    private Evaluator() {
    }

    public static Evaluation evaluate(Network net, LabeledData data, List<String> classNames) {
        return evaluate(net::output, data, classNames);
    }

    public static Evaluation evaluate(Classifier model, LabeledData data, List<String> classNames) {
        return evaluate(probabilities(model, data), data.labels(), classNames);
    }

    /** Accuracy, loss and confusion of per-example class probabilities against {@code labels}. */
    public static Evaluation evaluate(float[][] probabilities, int[] labels, List<String> classNames) {
        int k = probabilities.length > 0 ? probabilities[0].length : classNames.size();
        int[][] confusion = new int[k][k];
        double lossSum = 0;
        int correct = 0;
        for (int i = 0; i < probabilities.length; i++) {
            int actual = labels[i];
            int predicted = argmax(probabilities[i]);
            confusion[actual][predicted]++;
            if (predicted == actual) correct++;
            lossSum -= Math.log(Math.max(MIN_PROBABILITY, probabilities[i][actual]));
        }
        int n = probabilities.length;
        return new Evaluation(n, n == 0 ? Double.NaN : lossSum / n, n == 0 ? Double.NaN : (double) correct / n,
                confusion, classNames);
    }

    /** Every example's class probabilities, computed in chunks. */
    public static float[][] probabilities(Classifier model, LabeledData data) {
        float[][] out = new float[data.size()][];
        for (int from = 0; from < data.size(); from += CHUNK) {
            int to = Math.min(data.size(), from + CHUNK);
            float[][] rows = model.probabilities(data.toDataSet(null, from, to).getFeatures()).toFloatMatrix();
            System.arraycopy(rows, 0, out, from, rows.length);
        }
        return out;
    }

    /** The index of the largest value of {@code row} (the first, on ties): the predicted class. */
    public static int argmax(float[] row) {
        return argmax(row, 0, row.length);
    }

    /** As {@link #argmax(float[])} for the row {@code values[from .. from + length)}, relative to {@code from}. */
    public static int argmax(float[] values, int from, int length) {
        int best = 0;
        for (int j = 1; j < length; j++) if (values[from + j] > values[from + best]) best = j;
        return best;
    }
}
