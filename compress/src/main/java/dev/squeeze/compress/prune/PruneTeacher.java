package dev.squeeze.compress.prune;

/** What each pruning level's retraining learns from besides the labels. */
public enum PruneTeacher {
    /** The labels only, as the lottery-ticket papers retrain. */
    NONE,
    /**
     * The dense model's soft targets as well (knowledge distillation at {@code distill}'s default temperature and
     * alpha): a sparse network imitates the network it was cut from, which holds accuracy better at high sparsity.
     */
    DENSE
}
