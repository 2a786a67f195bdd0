package dev.squeeze.models.data;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * Examples and their labels, kept side by side so that every reordering moves both together
 * (the talk's first silent bug is shuffling X and y apart). Features are a flat row-major
 * {@code [size, featureSize]} float array; an image is flattened (CNNs reshape it themselves).
 */
public record LabeledData(float[] features, int[] labels, int featureSize, int numClasses) {

    public LabeledData {
        if (featureSize <= 0) throw new IllegalArgumentException("featureSize must be positive");
        if (features.length != (long) labels.length * featureSize) {
            throw new IllegalArgumentException("features hold " + features.length + " values, expected "
                    + labels.length + " x " + featureSize);
        }
        for (int label : labels) {
            if (label < 0 || label >= numClasses) {
                throw new IllegalArgumentException("label " + label + " outside 0.." + (numClasses - 1));
            }
        }
    }

    public int size() {
        return labels.length;
    }

    /** The examples at {@code indices}, in that order, features and labels together. */
    public LabeledData select(int[] indices) {
        float[] f = new float[indices.length * featureSize];
        int[] l = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            System.arraycopy(features, indices[i] * featureSize, f, i * featureSize, featureSize);
            l[i] = labels[indices[i]];
        }
        return new LabeledData(f, l, featureSize, numClasses);
    }

    /** The first {@code n} examples (all of them when n exceeds the size). */
    public LabeledData head(int n) {
        int k = Math.min(n, size());
        return new LabeledData(Arrays.copyOf(features, k * featureSize), Arrays.copyOf(labels, k),
                featureSize, numClasses);
    }

    /**
     * The examples at {@code order[from..to)} as an ND4J mini-batch: features {@code [n, featureSize]},
     * labels one-hot {@code [n, numClasses]}.
     */
    public DataSet toDataSet(int[] order, int from, int to) {
        int n = to - from;
        float[] f = new float[n * featureSize];
        float[] y = new float[n * numClasses];
        for (int i = 0; i < n; i++) {
            int src = order == null ? from + i : order[from + i];
            System.arraycopy(features, src * featureSize, f, i * featureSize, featureSize);
            y[i * numClasses + labels[src]] = 1f;
        }
        INDArray x = Nd4j.create(f, new long[]{n, featureSize}, 'c');
        INDArray t = Nd4j.create(y, new long[]{n, numClasses}, 'c');
        return new DataSet(x, t);
    }

    /** All examples, in stored order, as one DataSet. */
    public DataSet toDataSet() {
        return toDataSet(null, 0, size());
    }

    /** {@code this} followed by {@code other} (same features and classes). */
    public LabeledData concat(LabeledData other) {
        if (other.featureSize != featureSize || other.numClasses != numClasses) {
            throw new IllegalArgumentException("cannot concatenate data of different shapes");
        }
        float[] f = Arrays.copyOf(features, features.length + other.features.length);
        System.arraycopy(other.features, 0, f, features.length, other.features.length);
        int[] l = Arrays.copyOf(labels, labels.length + other.labels.length);
        System.arraycopy(other.labels, 0, l, labels.length, other.labels.length);
        return new LabeledData(f, l, featureSize, numClasses);
    }

    /** How many examples carry each label. */
    public int[] classCounts() {
        int[] counts = new int[numClasses];
        for (int label : labels) counts[label]++;
        return counts;
    }
}
