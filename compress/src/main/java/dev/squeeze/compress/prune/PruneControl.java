package dev.squeeze.compress.prune;

/** The control run beside each level, to show that a ticket is a ticket. */
public enum PruneControl {
    /** No control. */
    NONE,
    /** The same mask on a fresh random initialisation: does the ticket's own initialisation matter? */
    REINIT,
    /** A random mask with the same per-layer sparsity on the original initialisation: do these weights matter? */
    RANDOM
}
