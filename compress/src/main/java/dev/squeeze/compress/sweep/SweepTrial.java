package dev.squeeze.compress.sweep;

import dev.squeeze.compress.train.TrainParams;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One combination of a sweep's grid.
 *
 * @param number   1-based position in the sweep
 * @param count    how many trials the sweep has
 * @param settings the swept settings, grid key to value text, in the grid's key order
 * @param params   the base settings with the swept ones applied: what this trial trains
 */
public record SweepTrial(int number, int count, Map<String, String> settings, TrainParams params) {

    public SweepTrial {
        // Map.copyOf would lose the grid's key order, which the labels follow.
        settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
    }

    /** {@code trial 3/8}. */
    public String name() {
        return "trial " + number + "/" + count;
    }

    /** The swept settings as the user wrote the grid: {@code lr=0.001 batch=32}. */
    public String label() {
        return settings.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
    }
}
