package dev.squeeze.compress.train;

import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.TrainValSplit;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The training pipeline's batches: each epoch one permutation of the example indices, seeded by the run's
 * seed and the epoch (so a resumed run sees the same order), and every batch cut from that one order, so
 * features and labels cannot be shuffled apart. With an {@link Augmentation}, each batch's images are changed
 * after they are cut (a copy: the data itself is never changed), by draws seeded by the epoch and step.
 */
public final class ShuffledBatches implements BatchSource {
    private final LabeledData data;
    private final int batchSize;
    private final long seed;
    private final float[] softTargets;
    private final Augmentation augmentation;
    private int orderEpoch = -1;
    private int[] order;

    public ShuffledBatches(LabeledData data, int batchSize, long seed) {
        this(data, batchSize, seed, null);
    }

    /**
     * Batches whose label rows are {@code [softTargets | one-hot label]} (width 2K): what distillation's loss
     * reads. Soft targets travel through the same permutation as features and labels.
     *
     * @param softTargets {@code [size, numClasses]} row-major, one row per example, or null for one-hot labels only
     */
    public ShuffledBatches(LabeledData data, int batchSize, long seed, float[] softTargets) {
        this(data, batchSize, seed, softTargets, null);
    }

    /**
     * Batches as training cuts them: {@code params}' batch size and seed, its {@code --augment} applied to
     * {@code data}'s images, and the soft targets of distillation (or null).
     */
    public static ShuffledBatches forTraining(TrainParams params, TrainingData data, float[] softTargets) {
        return new ShuffledBatches(data.train(), params.batch(), params.seed(), softTargets,
                Augmentation.of(params.augment(), data.inputShape(), data.normalization(), data.dataset()));
    }

    /**
     * @param augmentation changes each batch's images (never the data), or null for none
     */
    public ShuffledBatches(LabeledData data, int batchSize, long seed, float[] softTargets, Augmentation augmentation) {
        if (softTargets != null && softTargets.length != (long) data.size() * data.numClasses()) {
            throw new IllegalArgumentException(softTargets.length + " soft targets for " + data.size() + " examples of "
                    + data.numClasses() + " classes");
        }
        this.data = data;
        this.batchSize = batchSize;
        this.seed = seed;
        this.softTargets = softTargets;
        this.augmentation = augmentation;
    }

    /** The changes made to each batch's images, or null for none. */
    public Augmentation augmentation() {
        return augmentation;
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
        int to = Math.min(data.size(), from + batchSize);
        DataSet batch = data.toDataSet(order, from, to);
        if (augmentation != null) {
            batch = new DataSet(augmentation.apply(batch.getFeatures(), batchSeed(seed, epoch, step)), batch.getLabels());
        }
        if (softTargets == null) return batch;
        int k = data.numClasses();
        float[] labels = new float[(to - from) * 2 * k];
        for (int i = 0; i < to - from; i++) {
            System.arraycopy(softTargets, order[from + i] * k, labels, i * 2 * k, k);
            labels[i * 2 * k + k + data.labels()[order[from + i]]] = 1f;
        }
        return new DataSet(batch.getFeatures(), Nd4j.create(labels, new long[]{to - from, 2L * k}, 'c'));
    }

    static long epochSeed(long seed, int epoch) {
        return seed * 1_000_003L + epoch;
    }

    /** Seeds one batch's augmentation: a function of the run's seed, the epoch and the step only. */
    static long batchSeed(long seed, int epoch, int step) {
        return epochSeed(seed, epoch) * 0x9E3779B97F4A7C15L + step;
    }
}
