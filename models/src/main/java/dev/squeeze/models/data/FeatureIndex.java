package dev.squeeze.models.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the examples of a data set that have exactly given features: the lookup behind checks that follow
 * an example by its content (is a batch row still paired with its label? is a test example a copy of a
 * training example?), never by an index a possibly buggy pipeline reports.
 */
public final class FeatureIndex {
    private final LabeledData data;
    private final Map<Long, List<Integer>> byHash = new HashMap<>();

    public FeatureIndex(LabeledData data) {
        this.data = data;
        int k = data.featureSize();
        for (int i = 0; i < data.size(); i++) {
            byHash.computeIfAbsent(hash(data.features(), i * k, k), h -> new ArrayList<>(1)).add(i);
        }
    }

    /** The indices of the examples whose features equal {@code values[from .. from + featureSize)}, exactly. */
    public List<Integer> find(float[] values, int from) {
        int k = data.featureSize();
        List<Integer> candidates = byHash.getOrDefault(hash(values, from, k), List.of());
        List<Integer> matches = new ArrayList<>(candidates.size());
        for (int i : candidates) {
            if (Arrays.equals(data.features(), i * k, (i + 1) * k, values, from, from + k)) matches.add(i);
        }
        return matches;
    }

    /** A 64-bit hash of {@code length} feature values; equal hashes are confirmed by comparing the values. */
    private static long hash(float[] values, int from, int length) {
        long h = 0xcbf29ce484222325L;
        for (int k = from; k < from + length; k++) {
            h ^= Float.floatToIntBits(values[k]);
            h *= 0x100000001b3L;
            h ^= h >>> 29;
        }
        return h;
    }
}
