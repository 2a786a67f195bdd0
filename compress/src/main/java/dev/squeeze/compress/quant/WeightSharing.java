package dev.squeeze.compress.quant;

import dev.squeeze.compress.network.Step;
import dev.squeeze.compress.network.StepNetwork;

import java.util.ArrayList;
import java.util.List;

/**
 * Weight sharing, as Deep Compression (Han et al. 2016) does it after pruning: each int8 layer's non-zero weight codes
 * are clustered into at most {@code k} values (one-dimensional k-means, centroids started at the codes' quantiles),
 * and each code replaced by its cluster's value rounded to an integer. Zeros stay
 * zero, so a pruned layer stays as sparse; scales and biases do not change. The layer is still int8, computed and
 * exported as every int8 layer is; its weights then take at most {@code k} distinct non-zero values, which a packed
 * export ({@code dev.squeeze.compress.onnx.PackedWeights}) stores in {@code ceil(log2(k + 1))} bits each.
 */
public final class WeightSharing {
    /** Lloyd iterations at most; the codes are integers in [-127, 127], so it settles in a few. */
    private static final int ITERATIONS = 100;

    private WeightSharing() {
    }

    /** {@code network} with every int8 layer's weights (float activations or not) shared among at most {@code k} values; itself when k is 0. */
    public static StepNetwork apply(StepNetwork network, int k) {
        if (k <= 0) return network;
        return new StepNetwork(network.inputShape(), shared(network.steps(), k));
    }

    private static List<Step> shared(List<Step> steps, int k) {
        List<Step> out = new ArrayList<>();
        for (Step s : steps) {
            if (s instanceof Int8Linear l) {
                out.add(new Int8Linear(l.layer(), l.label(), l.geometry(), shared(l.weights(), k), l.bias(), l.input(),
                        l.output(), l.relu(), l.activation()));
            } else if (s instanceof WeightOnlyInt8Linear l) {
                out.add(l.withWeights(shared(l.weights(), k)));
            } else if (s instanceof Step.Residual r) {
                out.add(new Step.Residual(r.label(), shared(r.main(), k), shared(r.shortcut(), k), r.activation(), r.output()));
            } else {
                out.add(s);
            }
        }
        return out;
    }

    /** {@code w} with its non-zero codes clustered into at most {@code k} integer values. */
    public static QuantizedWeights shared(QuantizedWeights w, int k) {
        byte[] codes = w.values();
        long[] count = new long[256];
        for (byte c : codes) if (c != 0) count[c + 128]++;
        int[] map = clusters(count, k);
        byte[] out = new byte[codes.length];
        for (int i = 0; i < codes.length; i++) out[i] = codes[i] == 0 ? 0 : (byte) map[codes[i] + 128];
        return new QuantizedWeights(out, w.shape(), w.channelAxis(), w.scales());
    }

    /**
     * For each code (index {@code code + 128}) with a count, the integer value of its cluster: k-means over the
     * histogram {@code count}, centroids rounded to non-zero integers (a centroid that rounds to zero to -1 or 1 by its
     * sign); codes that are at most {@code k} distinct keep their values.
     */
    static int[] clusters(long[] count, int k) {
        int[] map = new int[256];
        for (int i = 0; i < 256; i++) map[i] = i - 128;
        int lo = 256;
        int hi = -1;
        int distinct = 0;
        for (int i = 0; i < 256; i++) {
            if (count[i] == 0) continue;
            lo = Math.min(lo, i);
            hi = Math.max(hi, i);
            distinct++;
        }
        if (distinct <= k) return map;
        // Started at the codes' quantiles, k equal counts: without fine-tuning, Deep Compression's linear start leaves
        // most centroids in the sparse tails (the demo's lenet-300-100 at k=15: 0.70 points lost, 0.22 this way).
        double[] centroid = new double[k];
        long total = 0;
        for (long c : count) total += c;
        long seen = 0;
        for (int i = lo, j = 0; i <= hi && j < k; i++) {
            seen += count[i];
            while (j < k && seen >= (j + 0.5) * total / k) centroid[j++] = i - 128;
        }
        int[] nearest = new int[256];
        for (int iteration = 0; iteration < ITERATIONS; iteration++) {
            double[] sum = new double[k];
            long[] n = new long[k];
            for (int i = lo; i <= hi; i++) {
                if (count[i] == 0) continue;
                nearest[i] = nearest(centroid, i - 128);
                sum[nearest[i]] += count[i] * (double) (i - 128);
                n[nearest[i]] += count[i];
            }
            boolean moved = false;
            for (int j = 0; j < k; j++) {
                if (n[j] == 0) continue;   // an empty cluster keeps its place
                double c = sum[j] / n[j];
                moved |= c != centroid[j];
                centroid[j] = c;
            }
            if (!moved) break;
        }
        for (int i = lo; i <= hi; i++) {
            if (count[i] == 0) continue;
            double c = centroid[nearest(centroid, i - 128)];
            long value = Math.round(c);
            // A cluster around zero takes the non-zero value nearest its centroid, one value for all its codes.
            map[i] = (int) (value != 0 ? value : c < 0 ? -1 : 1);
        }
        return map;
    }

    private static int nearest(double[] centroid, double x) {
        int best = 0;
        for (int j = 1; j < centroid.length; j++) if (Math.abs(centroid[j] - x) < Math.abs(centroid[best] - x)) best = j;
        return best;
    }
}
