package dev.squeeze.compress.quant;

import java.util.Arrays;

/**
 * The distribution of one activation tensor over calibration batches, gathered in two passes over the same batches:
 * first its extremes ({@link #observeRange}), then histograms over those extremes ({@link #observeHistogram}), from
 * which {@link #range} picks a clipping range by {@link Calibration} method.
 */
public final class TensorStatistics {
    /** Number of uniform bins in each histogram. */
    public static final int BINS = 2048;

    /** Smoothing mass given to empty bins before the KL divergence is taken (ONNX Runtime's value). */
    private static final double EPS = 1e-4;

    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;
    private long count;

    /** Signed histogram over [min, max]; values equal to min are counted apart (a point mass), those at max left out. */
    private long[] signed;
    private long atMin;
    /** Histogram of |x| over [0, max(|min|, |max|)]. */
    private long[] magnitude;
    private long histogramCount;

    /** A clipping range {@code [lo, hi]} for one tensor. */
    public record Range(double lo, double hi) {}

    /** Pass 1: widens the observed minimum and maximum to cover {@code values}. */
    public void observeRange(float[] values) {
        if (histogramCount > 0) {
            throw new IllegalStateException("the range is fixed once histograms are being observed");
        }
        float lo = min;
        float hi = max;
        for (float v : values) {
            requireFinite(v);
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        min = lo;
        max = hi;
        count += values.length;
    }

    /** Pass 2: adds {@code values} to the histograms over the range seen in pass 1. */
    public void observeHistogram(float[] values) {
        if (count == 0) throw new IllegalStateException("observeRange must see values before observeHistogram");
        for (float v : values) requireFinite(v);
        histogramCount += values.length;
        if (min == max) return;
        if (signed == null) {
            signed = new long[BINS];
            magnitude = new long[BINS];
        }
        double signedScale = BINS / ((double) max - min);
        double magnitudeScale = BINS / absMax();
        for (float v : values) {
            if (v <= min) {
                atMin++;
            } else if (v < max) {
                signed[bin((v - (double) min) * signedScale)]++;
            } // values at max lie past the last bin: quantile() ends there
            magnitude[bin(Math.abs((double) v) * magnitudeScale)]++;
        }
    }

    /** The smallest value seen in pass 1. */
    public float min() {
        requireObserved();
        return min;
    }

    /** The largest value seen in pass 1. */
    public float max() {
        requireObserved();
        return max;
    }

    /** How many values pass 1 has seen. */
    public long count() {
        return count;
    }

    /**
     * The clipping range chosen by {@code method}; {@code percentile} (in (50, 100], e.g. 99.99) is used only by
     * {@link Calibration#PERCENTILE}. Percentile and entropy need pass 2 to have run.
     */
    public Range range(Calibration method, double percentile) {
        requireObserved();
        if (method == Calibration.PERCENTILE && !(percentile > 50 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile must be in (50, 100], got " + percentile);
        }
        if (min == max || method == Calibration.MINMAX) return new Range(min, max);
        if (histogramCount == 0) {
            throw new IllegalStateException(method.label() + " calibration needs observeHistogram to have run");
        }
        return switch (method) {
            case MINMAX -> new Range(min, max);
            case PERCENTILE -> percentileRange(percentile);
            case ENTROPY -> entropyRange();
        };
    }

    private Range percentileRange(double percentile) {
        if (percentile == 100) return new Range(min, max);
        double lo = quantile((100 - percentile) / 100);
        double hi = quantile(percentile / 100);
        lo = clamp(lo, min, max);
        hi = clamp(hi, lo, max);
        return new Range(lo, hi);
    }

    /** The value below which a fraction {@code q} of the pass-2 values lie, interpolated linearly within a bin. */
    private double quantile(double q) {
        double target = q * histogramCount;
        if (target <= atMin) return min;
        double width = ((double) max - min) / BINS;
        double cumulative = atMin;
        for (int b = 0; b < BINS; b++) {
            long h = signed[b];
            if (h > 0 && cumulative + h >= target) return min + (b + (target - cumulative) / h) * width;
            cumulative += h;
        }
        return max;
    }

    private Range entropyRange() {
        double t = entropyThreshold(min >= 0 ? 255 : 128);
        if (min >= 0) return new Range(min, Math.max(min, Math.min(max, t)));
        double lo = Math.max(min, -t);
        double hi = Math.max(lo, Math.min(max, t));
        return new Range(lo, hi);
    }

    /**
     * TensorRT's threshold search on the |x| histogram: the candidate bin count {@code i} whose clipped distribution
     * P and its {@code nQuant}-level quantization Q are closest in KL divergence; returns the upper edge of bin i-1.
     */
    private double entropyThreshold(int nQuant) {
        double absMax = absMax();
        double[] h = new double[BINS];
        for (int b = 0; b < BINS; b++) h[b] = magnitude[b];
        // Zero is exactly representable, so a spike of zeros (ReLU) must not make merging bin 0 look costly; NVIDIA's
        // TensorRT port (pytorch-quantization's _compute_amax_entropy) flattens it the same way.
        h[0] = Math.min(h[0], h[1]);
        int first = 0;
        while (h[first] == 0) first++;
        double[] suffix = new double[BINS + 1];
        for (int b = BINS - 1; b >= 0; b--) suffix[b] = suffix[b + 1] + h[b];
        double[] p = new double[BINS];
        double[] q = new double[BINS];
        double[] groupSum = new double[nQuant];
        int[] groupNonZero = new int[nQuant];
        double bestKl = Double.POSITIVE_INFINITY;
        int best = BINS;
        // Magnitudes that all lie far from zero would otherwise let P and Q collapse into one bin (KL 0): the
        // candidates keep at least nQuant bins of the occupied span.
        for (int i = Math.max(nQuant, first + nQuant); i <= BINS; i++) {
            double kl = klDivergence(h, suffix, i, nQuant, p, q, groupSum, groupNonZero);
            if (kl < bestKl) {
                bestKl = kl;
                best = i;
            }
        }
        return best == BINS ? absMax : best * (absMax / BINS);
    }

    /**
     * KL(P || Q) for the first {@code i} bins, bin j falling in group {@code j * nQuant / i}; infinite when either
     * distribution cannot be smoothed.
     */
    private static double klDivergence(double[] h, double[] suffix, int i, int nQuant, double[] p, double[] q,
                                       double[] groupSum, int[] groupNonZero) {
        System.arraycopy(h, 0, p, 0, i);
        p[i - 1] += suffix[i];
        Arrays.fill(groupSum, 0);
        Arrays.fill(groupNonZero, 0);
        for (int j = 0; j < i; j++) {
            int g = (int) ((long) j * nQuant / i);
            groupSum[g] += h[j];
            if (p[j] != 0) groupNonZero[g]++;
        }
        for (int j = 0; j < i; j++) {
            int g = (int) ((long) j * nQuant / i);
            q[j] = p[j] != 0 ? groupSum[g] / groupNonZero[g] : 0;
        }
        if (!smooth(p, i) || !smooth(q, i)) return Double.POSITIVE_INFINITY;
        double sumP = 0;
        double sumQ = 0;
        for (int j = 0; j < i; j++) {
            sumP += p[j];
            sumQ += q[j];
        }
        double offset = Math.log(sumQ) - Math.log(sumP);
        double kl = 0;
        for (int j = 0; j < i; j++) {
            kl += p[j] * (Math.log(p[j]) - Math.log(q[j]) + offset);
        }
        return kl / sumP;
    }

    /** ONNX Runtime's smooth_distribution: empty bins get EPS, taken evenly from the others; false if impossible. */
    private static boolean smooth(double[] x, int n) {
        int zeros = 0;
        for (int j = 0; j < n; j++) if (x[j] == 0) zeros++;
        int nonZeros = n - zeros;
        if (nonZeros == 0) return false;
        double eps1 = EPS * zeros / nonZeros;
        if (eps1 >= 1) return false;
        for (int j = 0; j < n; j++) {
            if (x[j] == 0) {
                x[j] = EPS;
            } else {
                x[j] -= eps1;
                if (x[j] <= 0) return false;
            }
        }
        return true;
    }

    private double absMax() {
        return Math.max(Math.abs((double) min), Math.abs((double) max));
    }

    private static int bin(double position) {
        int b = (int) position;
        return b < 0 ? 0 : Math.min(b, BINS - 1);
    }

    private static double clamp(double x, double lo, double hi) {
        return Math.max(lo, Math.min(hi, x));
    }

    private static void requireFinite(float v) {
        if (!Float.isFinite(v)) {
            throw new IllegalArgumentException("the network produced a non-finite activation (" + v
                    + "); calibration needs finite values");
        }
    }

    private void requireObserved() {
        if (count == 0) throw new IllegalStateException("no values observed: call observeRange first");
    }
}
