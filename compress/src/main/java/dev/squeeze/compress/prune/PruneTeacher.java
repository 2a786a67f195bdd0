package dev.squeeze.compress.prune;

/** What each pruning level's retraining learns from besides the labels. */
public enum PruneTeacher {
    /** The labels only, as the lottery-ticket papers retrain. */
    NONE,
    /**
     * The dense model's soft targets as well (knowledge distillation at {@code distill}'s default temperature and
     * alpha): a sparse network imitates the network it was cut from. On lenet-5 and Fashion-MNIST this held the deep
     * levels' validation accuracy better than their test accuracy, so it is not the default.
     */
    DENSE
}
