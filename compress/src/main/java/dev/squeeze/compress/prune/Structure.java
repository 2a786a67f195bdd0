package dev.squeeze.compress.prune;

import dev.squeeze.core.BadInputException;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What structured pruning removes whole ({@code --structure}): hidden neurons of dense layers, or filters
 * (output channels) of convolution layers. Either way the pruned network is physically smaller, unlike
 * unstructured zeros, which neither shrink a dense file nor speed up dense kernels.
 */
public enum Structure {
    /** Units of the hidden dense layers, ranked by the L2 norm of their incoming weights. */
    NEURONS,
    /** Filters of the convolution layers, ranked by the L2 norm of the filter; dense layers are left alone. */
    CHANNELS;

    /** The name users type: {@code neurons} or {@code channels}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The structure called {@code name} (case-insensitive); a {@link BadInputException} listing both otherwise. */
    public static Structure parse(String name) {
        for (Structure s : values()) {
            if (s.cliName().equalsIgnoreCase(name.trim())) return s;
        }
        throw new BadInputException("unknown --structure '" + name + "'; use one of "
                + Arrays.stream(values()).map(Structure::cliName).collect(Collectors.joining(", ")));
    }
}
