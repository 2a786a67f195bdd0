package dev.squeeze.models.data;

import java.util.Arrays;

/**
 * Standardisation {@code (x[j] - mean[j]) / std[j]} per feature, with statistics computed on the training
 * split only and saved with the model, so evaluation and inference apply exactly the same transform.
 * A feature left as it is has mean 0 and std 1: the registered image datasets use one mean and std for every
 * pixel ({@link #global}); image folders one per channel ({@link #perChannel}), repeated over the channel's
 * pixels; tables standardise numeric columns only and leave binary and one-hot columns alone
 * ({@link #perFeature}). Either way the model file and the ONNX export hold one mean and std per feature.
 */
public record Normalization(float[] mean, float[] std) {

    public Normalization {
        if (mean.length != std.length) {
            throw new IllegalArgumentException("normalization needs one mean and one std per feature, got "
                    + mean.length + " and " + std.length);
        }
        for (int j = 0; j < mean.length; j++) {
            if (!(std[j] > 0) || !Float.isFinite(mean[j]) || !Float.isFinite(std[j])) {
                throw new IllegalArgumentException("feature " + j + " needs a finite mean and a positive std, got "
                        + mean[j] + ", " + std[j]);
            }
        }
    }

    /** One mean and standard deviation over every value of {@code train} (call it on the training split only). */
    public static Normalization global(LabeledData train) {
        double[] stats = stats(train, null);
        float[] mean = new float[train.featureSize()];
        float[] std = new float[train.featureSize()];
        Arrays.fill(mean, (float) stats[0]);
        Arrays.fill(std, (float) stats[1]);
        return new Normalization(mean, std);
    }

    /**
     * One mean and standard deviation per channel of images stored channel-first ({@code C x H x W} per example),
     * over every pixel of that channel in {@code train} (call it on the training split only); each channel's pair
     * fills its {@code H x W} features.
     */
    public static Normalization perChannel(LabeledData train, int channels) {
        int size = train.featureSize();
        if (channels <= 0 || size % channels != 0) {
            throw new IllegalArgumentException(size + " features are not " + channels + " channels of equal size");
        }
        int plane = size / channels;
        float[] x = train.features();
        float[] mean = new float[size];
        float[] std = new float[size];
        for (int c = 0; c < channels; c++) {
            double sum = 0;
            long n = 0;
            for (int e = 0; e < train.size(); e++) {
                int from = e * size + c * plane;
                for (int i = from; i < from + plane; i++) sum += x[i];
                n += plane;
            }
            double m = sum / n;
            double sq = 0;
            for (int e = 0; e < train.size(); e++) {
                int from = e * size + c * plane;
                for (int i = from; i < from + plane; i++) {
                    double d = x[i] - m;
                    sq += d * d;
                }
            }
            double sd = Math.sqrt(sq / n);
            Arrays.fill(mean, c * plane, (c + 1) * plane, (float) m);
            Arrays.fill(std, c * plane, (c + 1) * plane, (float) (sd == 0 ? 1 : sd));
        }
        return new Normalization(mean, std);
    }

    /**
     * Each feature with {@code standardize[j]} gets its own mean and std from {@code train}; the others are
     * left as they are (categorical and binary columns must never be standardised).
     */
    public static Normalization perFeature(LabeledData train, boolean[] standardize) {
        if (standardize.length != train.featureSize()) {
            throw new IllegalArgumentException(standardize.length + " flags for " + train.featureSize() + " features");
        }
        float[] mean = new float[standardize.length];
        float[] std = new float[standardize.length];
        for (int j = 0; j < standardize.length; j++) {
            if (standardize[j]) {
                double[] stats = stats(train, j);
                mean[j] = (float) stats[0];
                std[j] = (float) stats[1];
            } else {
                std[j] = 1f;
            }
        }
        return new Normalization(mean, std);
    }

    /** {mean, std} of one feature, or of all values when {@code feature} is null; a constant gets std 1. */
    private static double[] stats(LabeledData data, Integer feature) {
        float[] x = data.features();
        int stride = feature == null ? 1 : data.featureSize();
        int start = feature == null ? 0 : feature;
        double sum = 0;
        long n = 0;
        for (int i = start; i < x.length; i += stride, n++) sum += x[i];
        double mean = sum / n;
        double sq = 0;
        for (int i = start; i < x.length; i += stride) {
            double d = x[i] - mean;
            sq += d * d;
        }
        double std = Math.sqrt(sq / n);
        return new double[]{mean, std == 0 ? 1 : std};
    }

    public int featureSize() {
        return mean.length;
    }

    /** Whether feature {@code j} is changed by this normalization. */
    public boolean standardizes(int j) {
        return mean[j] != 0f || std[j] != 1f;
    }

    /** A normalised copy; the input is left as it is. */
    public LabeledData apply(LabeledData data) {
        if (data.featureSize() != mean.length) {
            throw new IllegalArgumentException("normalization for " + mean.length + " features applied to "
                    + data.featureSize());
        }
        float[] x = data.features();
        float[] out = new float[x.length];
        int k = mean.length;
        float[] inv = new float[k];
        for (int j = 0; j < k; j++) inv[j] = 1f / std[j];
        for (int i = 0; i < x.length; i++) {
            int j = i % k;
            out[i] = (x[i] - mean[j]) * inv[j];
        }
        return new LabeledData(out, data.labels(), data.featureSize(), data.numClasses());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Normalization other && Arrays.equals(mean, other.mean) && Arrays.equals(std, other.std);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "Normalization[" + mean.length + " features, mean[0]=" + (mean.length > 0 ? mean[0] : Float.NaN)
                + ", std[0]=" + (std.length > 0 ? std[0] : Float.NaN) + "]";
    }
}
