package dev.squeeze.compress.quant;

import java.util.Locale;

/**
 * How many scales a weight tensor gets: one per output channel (neuron or filter), or one for the whole tensor. Users
 * write the lower-case names; the setting parses them ({@link QuantParams#SETTINGS}).
 */
public enum Granularity {
    CHANNEL, TENSOR;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
