package dev.squeeze.compress.prune;

import dev.squeeze.models.zoo.Network;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Prunes the given fraction of the surviving weights with the smallest magnitude, per layer (the output
 * layer at half the rate, as in Frankle &amp; Carbin) or globally; or, for the control, at random with the
 * same per-layer counts.
 */
public final class MagnitudePruning {
    private MagnitudePruning() {
    }

    /**
     * @param current the mask so far (only its surviving weights compete)
     * @param trained the trained network whose magnitudes decide, a layer stack or a graph; the output layer (half the
     *                rate in {@link PruneScope#LAYER} scope) is the mask's last parameter, as {@link Network#layers()}
     *                orders them
     * @param rate    fraction of the surviving weights to remove
     */
    public static Mask prune(Mask current, Network trained, double rate, PruneScope scope) {
        Map<String, boolean[]> next = new LinkedHashMap<>();
        List<String> keys = new ArrayList<>(current.flags().keySet());
        String output = keys.get(keys.size() - 1);
        if (scope == PruneScope.LAYER) {
            for (String key : keys) {
                double layerRate = key.equals(output) ? rate / 2 : rate;
                float[] w = trained.getParam(key).dup('c').data().asFloat();
                next.put(key, pruneSmallest(current.flags().get(key), w, Math.round(layerRate * current.remaining(key))));
            }
        } else {
            // One threshold for all layers: rank every surviving weight together.
            List<long[]> survivors = new ArrayList<>();   // {layer, index}
            List<float[]> weights = new ArrayList<>();
            for (int k = 0; k < keys.size(); k++) {
                weights.add(trained.getParam(keys.get(k)).dup('c').data().asFloat());
                boolean[] flags = current.flags().get(keys.get(k));
                for (int i = 0; i < flags.length; i++) if (flags[i]) survivors.add(new long[]{k, i});
            }
            survivors.sort(Comparator.<long[]>comparingDouble(s -> Math.abs(weights.get((int) s[0])[(int) s[1]]))
                    .thenComparingLong(s -> s[0]).thenComparingLong(s -> s[1]));
            for (String key : keys) next.put(key, current.flags().get(key).clone());
            long toPrune = Math.round(rate * survivors.size());
            for (int j = 0; j < toPrune; j++) next.get(keys.get((int) survivors.get(j)[0]))[(int) survivors.get(j)[1]] = false;
        }
        return current.with(next);
    }

    /**
     * A random mask inside {@code previous} keeping, per layer, as many weights as {@code target} does: the
     * control that separates "these weights" from "this many weights".
     */
    public static Mask randomLike(Mask previous, Mask target, long seed) {
        Map<String, boolean[]> next = new LinkedHashMap<>();
        Random random = new Random(seed);
        for (String key : previous.flags().keySet()) {
            boolean[] flags = previous.flags().get(key).clone();
            int[] alive = java.util.stream.IntStream.range(0, flags.length).filter(i -> flags[i]).toArray();
            long drop = alive.length - target.remaining(key);
            for (int i = alive.length - 1; i > 0; i--) {   // Fisher-Yates, then drop the first 'drop'
                int j = random.nextInt(i + 1);
                int t = alive[i];
                alive[i] = alive[j];
                alive[j] = t;
            }
            for (int i = 0; i < drop; i++) flags[alive[i]] = false;
            next.put(key, flags);
        }
        return previous.with(next);
    }

    /** Removes the {@code count} smallest-magnitude surviving weights; ties go to the lower index. */
    static boolean[] pruneSmallest(boolean[] flags, float[] w, long count) {
        Integer[] alive = java.util.stream.IntStream.range(0, flags.length).filter(i -> flags[i]).boxed().toArray(Integer[]::new);
        Arrays.sort(alive, Comparator.<Integer>comparingDouble(i -> Math.abs(w[i])).thenComparingInt(i -> i));
        boolean[] out = flags.clone();
        for (int j = 0; j < count && j < alive.length; j++) out[alive[j]] = false;
        return out;
    }
}
