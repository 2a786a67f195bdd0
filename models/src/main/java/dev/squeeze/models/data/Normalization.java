package dev.squeeze.models.data;

/**
 * Standardisation {@code (x - mean) / std} with statistics computed on the training split only and
 * saved with the model, so evaluation and inference apply exactly the same transform.
 */
public record Normalization(double mean, double std) {

    public Normalization {
        if (!(std > 0) || !Double.isFinite(mean) || !Double.isFinite(std)) {
            throw new IllegalArgumentException("normalization needs a finite mean and a positive std, got "
                    + mean + ", " + std);
        }
    }

    /** Mean and standard deviation over every value of {@code train} (call it on the training split only). */
    public static Normalization fitOn(LabeledData train) {
        float[] x = train.features();
        double sum = 0;
        for (float v : x) sum += v;
        double mean = sum / x.length;
        double sq = 0;
        for (float v : x) {
            double d = v - mean;
            sq += d * d;
        }
        double std = Math.sqrt(sq / x.length);
        return new Normalization(mean, std == 0 ? 1 : std);
    }

    /** A normalised copy; the input is left as it is. */
    public LabeledData apply(LabeledData data) {
        float[] x = data.features();
        float[] out = new float[x.length];
        float m = (float) mean;
        float inv = (float) (1.0 / std);
        for (int i = 0; i < x.length; i++) out[i] = (x[i] - m) * inv;
        return new LabeledData(out, data.labels(), data.featureSize(), data.numClasses());
    }
}
