package dev.squeeze.compress.train;

import dev.squeeze.models.zoo.Network;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * How a stage other than plain training bends the training loop: where the network starts (e.g. rewound
 * weights), what happens after every optimizer step (e.g. re-applying a pruning mask), and whether the
 * rewind snapshots are saved.
 *
 * @param start         the network to train when there is nothing to resume
 * @param afterStep     runs after every optimizer step, and once after a resume checkpoint is loaded
 * @param saveSnapshots save the weights and optimizer state at iteration 0 and at {@code TrainParams.snapshot}
 * @param softTargets   per training example, teacher probabilities to distill ({@link ShuffledBatches}), or null
 */
public record TrainingHooks(Supplier<Network> start, Consumer<Network> afterStep,
                            boolean saveSnapshots, float[] softTargets) {

    public TrainingHooks(Supplier<Network> start, Consumer<Network> afterStep, boolean saveSnapshots) {
        this(start, afterStep, saveSnapshots, null);
    }

    /** Plain training: a fresh seeded network, nothing after each step, snapshots saved for later rewinding. */
    public static TrainingHooks plain(TrainParams params, TrainingData data) {
        return new TrainingHooks(() -> Trainer.newNetwork(params, data), net -> { }, true);
    }
}
