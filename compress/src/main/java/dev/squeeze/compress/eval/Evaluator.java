package dev.squeeze.compress.eval;

import dev.squeeze.models.data.LabeledData;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

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

    public static Evaluation evaluate(MultiLayerNetwork net, LabeledData data, List<String> classNames) {
        return evaluate(features -> net.output(features, false), data, classNames);
    }

    public static Evaluation evaluate(Classifier model, LabeledData data, List<String> classNames) {
        int k = data.numClasses();
        int[][] confusion = new int[k][k];
        double lossSum = 0;
        int correct = 0;
        for (int from = 0; from < data.size(); from += CHUNK) {
            int to = Math.min(data.size(), from + CHUNK);
            DataSet batch = data.toDataSet(null, from, to);
            INDArray probs = model.probabilities(batch.getFeatures());
            float[][] rows = probs.toFloatMatrix();
            for (int i = 0; i < rows.length; i++) {
                int actual = data.labels()[from + i];
                int predicted = argmax(rows[i]);
                confusion[actual][predicted]++;
                if (predicted == actual) correct++;
                lossSum -= Math.log(Math.max(MIN_PROBABILITY, rows[i][actual]));
            }
        }
        int n = data.size();
        return new Evaluation(n, n == 0 ? Double.NaN : lossSum / n, n == 0 ? Double.NaN : (double) correct / n,
                confusion, classNames);
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
