package dev.squeeze.compress.quant;

import dev.squeeze.core.BadInputException;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How an activation's clipping range is chosen from calibration data: the observed extremes, a percentile of the
 * values, or the threshold that minimises the KL divergence of the quantized distribution (TensorRT's entropy).
 */
public enum Calibration {
    MINMAX, PERCENTILE, ENTROPY;

    /** The lower-case name used on the command line and in reports. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The method named by {@code text} (case-insensitive); a {@link BadInputException} for anything else. */
    public static Calibration parse(String text) {
        for (Calibration c : values()) if (c.label().equalsIgnoreCase(text.trim())) return c;
        throw new BadInputException("--calibration must be one of " + Arrays.stream(values()).map(Calibration::label)
                .collect(Collectors.joining(", ")) + " (or auto), got '" + text + "'");
    }
}
