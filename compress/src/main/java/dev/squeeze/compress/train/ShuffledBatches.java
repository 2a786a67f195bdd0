package dev.squeeze.compress.train;

import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.TrainValSplit;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The training pipeline's batches: each epoch one permutation of the example indices, seeded by the run's
 * seed and the epoch (so a resumed run sees the same order), and every batch cut from that one order, so
 * features and labels cannot be shuffled apart.
 */
public final class ShuffledBatches implements BatchSource {
    private final LabeledData data;
    private final int batchSize;
    private final long seed;
    private int orderEpoch = -1;
    private int[] order;

    public ShuffledBatches(LabeledData data, int batchSize, long seed) {
        this.data = data;
        this.batchSize = batchSize;
        this.seed = seed;
    }

    @Override
    public int batchesPerEpoch() {
        return (data.size() + batchSize - 1) / batchSize;
    }

    @Override
    public DataSet batch(int epoch, int step) {
        if (epoch != orderEpoch) {
            order = TrainValSplit.permutation(data.size(), epochSeed(seed, epoch));
            orderEpoch = epoch;
        }
        int from = step * batchSize;
        return data.toDataSet(order, from, Math.min(data.size(), from + batchSize));
    }

    static long epochSeed(long seed, int epoch) {
        return seed * 1_000_003L + epoch;
    }
}
