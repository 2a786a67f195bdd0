package dev.squeeze.compress.train;

import dev.squeeze.models.BadInputException;

/**
 * The settings that decide what a training run produces; their hash names the run. Where to write and
 * which folder to read data from are not part of it: they do not change the result.
 *
 * @param model              zoo architecture name (no default)
 * @param dataset            dataset name
 * @param epochs             most epochs to train (early stopping may end sooner)
 * @param batch              mini-batch size
 * @param learningRate       Adam's learning rate
 * @param seed               seeds initial weights, dropout and the per-epoch shuffle
 * @param patience           epochs without a better validation accuracy before stopping
 * @param validationFraction share of the training set held out (with a fixed seed) for validation
 * @param lrDecay            the learning rate is multiplied by this after every epoch (1 keeps it constant)
 */
public record TrainParams(String model, String dataset, int epochs, int batch, double learningRate, long seed,
                          int patience, double validationFraction, double lrDecay) {

    public static final String DEFAULT_DATASET = "fashion-mnist";
    public static final int DEFAULT_EPOCHS = 30;
    public static final int DEFAULT_BATCH = 60;
    public static final double DEFAULT_LEARNING_RATE = 1e-3;
    public static final long DEFAULT_SEED = 42;
    public static final int DEFAULT_PATIENCE = 3;
    public static final double DEFAULT_VALIDATION_FRACTION = 0.1;
    public static final double DEFAULT_LR_DECAY = 0.8;

    /** The defaults; fields equal to these are left out of the configuration hash. */
    public static final TrainParams DEFAULTS = new TrainParams(null, DEFAULT_DATASET, DEFAULT_EPOCHS, DEFAULT_BATCH,
            DEFAULT_LEARNING_RATE, DEFAULT_SEED, DEFAULT_PATIENCE, DEFAULT_VALIDATION_FRACTION, DEFAULT_LR_DECAY);

    public TrainParams {
        if (epochs < 1) throw new BadInputException("--epochs must be at least 1, got " + epochs);
        if (batch < 1) throw new BadInputException("--batch must be at least 1, got " + batch);
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new BadInputException("--lr must be a positive number, got " + learningRate);
        }
        if (patience < 1) throw new BadInputException("--patience must be at least 1, got " + patience);
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new BadInputException("--val-fraction must lie strictly between 0 and 1, got " + validationFraction);
        }
        if (!(lrDecay > 0 && lrDecay <= 1)) {
            throw new BadInputException("--lr-decay must lie in (0, 1] (1 keeps the rate constant), got " + lrDecay);
        }
    }

    /** The defaults for {@code model}. */
    public static TrainParams of(String model) {
        return DEFAULTS.withModel(model);
    }

    public TrainParams withModel(String model) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay);
    }

    /** The learning rate during {@code epoch} (1-based): decayed once per finished epoch. */
    public double learningRateAt(int epoch) {
        return learningRate * Math.pow(lrDecay, epoch - 1);
    }
}
