package dev.squeeze.compress.train;

import org.nd4j.linalg.dataset.DataSet;

/**
 * Where the training loop takes its mini-batches from. The trainer and {@code squeeze doctor}'s alignment
 * check use the same one, so the doctor checks the batching that training really does.
 */
public interface BatchSource {

    int batchesPerEpoch();

    /** Mini-batch {@code step} (0-based) of {@code epoch} (1-based): features and one-hot labels. */
    DataSet batch(int epoch, int step);
}
