package dev.squeeze.compress.prune;

import java.util.Locale;

/**
 * What pruning removes ({@link PruneParams#structure()}): single weights ({@link #NONE}, unstructured), or, structured,
 * hidden neurons of dense layers or filters (output channels) of convolution layers. Structured, the pruned network is
 * physically smaller, unlike unstructured zeros, which neither shrink a dense file nor speed up dense kernels. Users
 * write the lower-case names; the setting parses them ({@link PruneParams#SETTINGS}), the one way they are read.
 */
public enum Structure {
    /** Unstructured: single weights, zeroed in a network of the same shape. */
    NONE,
    /** Units of the hidden dense layers, ranked by the L2 norm of their incoming weights. */
    NEURONS,
    /** Filters of the convolution layers, ranked by the L2 norm of the filter; dense layers are left alone. */
    CHANNELS;

    /** The name users type: {@code none}, {@code neurons} or {@code channels}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether whole neurons or channels go (a smaller network), not single weights. */
    public boolean structured() {
        return this != NONE;
    }
}
