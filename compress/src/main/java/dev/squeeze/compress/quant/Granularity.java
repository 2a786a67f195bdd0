package dev.squeeze.compress.quant;

import dev.squeeze.core.BadInputException;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** How many scales a weight tensor gets: one per output channel (neuron or filter), or one for the whole tensor. */
public enum Granularity {
    CHANNEL, TENSOR;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Granularity parse(String text) {
        for (Granularity g : values()) if (g.label().equalsIgnoreCase(text.trim())) return g;
        throw new BadInputException("--granularity must be one of " + Arrays.stream(values()).map(Granularity::label)
                .collect(Collectors.joining(", ")) + ", got '" + text + "'");
    }
}
