package dev.squeeze.compress.prune;

/** Which weights compete when choosing the smallest: each layer on its own, or all layers together. */
public enum PruneScope {
    /** Each layer loses the same fraction (the output layer half of it, as in the paper). */
    LAYER,
    /** One magnitude threshold over all layers. */
    GLOBAL
}
