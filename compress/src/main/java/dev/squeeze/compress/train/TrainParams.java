package dev.squeeze.compress.train;

import dev.squeeze.compress.artifacts.RewindPoint;
import dev.squeeze.models.core.BadInputException;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.zoo.Inits;
import org.deeplearning4j.nn.weights.WeightInit;

import java.util.List;

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
 * @param init               weight initialisation for every layer ({@link Inits#parse}), or null for the one
 *                           that suits each layer's activation
 * @param label              a CSV dataset's label column, or null (the last column)
 * @param categorical        a CSV dataset's categorical columns, or null to infer them
 * @param snapshot           also save the weights and optimizer state at this point ({@code 500it}, {@code 1ep})
 *                           for late rewinding; the initialisation is always saved
 * @param drop               a CSV dataset's columns to leave out (an id, a name), or null
 */
public record TrainParams(String model, String dataset, int epochs, int batch, double learningRate, long seed,
                          int patience, double validationFraction, double lrDecay, String init, String label,
                          List<String> categorical, String snapshot, List<String> drop) {

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
            DEFAULT_LEARNING_RATE, DEFAULT_SEED, DEFAULT_PATIENCE, DEFAULT_VALIDATION_FRACTION, DEFAULT_LR_DECAY, null, null,
            null, null, null);

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
        if (init != null) Inits.parse(init);
        categorical = categorical == null ? null : List.copyOf(categorical);
        if (snapshot != null) snapshot = RewindPoint.parse(snapshot).label();
        drop = drop == null || drop.isEmpty() ? null : List.copyOf(drop);
    }

    /** Settings that drop no CSV column. */
    public TrainParams(String model, String dataset, int epochs, int batch, double learningRate, long seed,
                       int patience, double validationFraction, double lrDecay, String init, String label,
                       List<String> categorical, String snapshot) {
        this(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay, init, label,
                categorical, snapshot, null);
    }

    /** Settings of image datasets, with the init that suits each activation. */
    public TrainParams(String model, String dataset, int epochs, int batch, double learningRate, long seed,
                       int patience, double validationFraction, double lrDecay) {
        this(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay, null, null, null,
                null);
    }

    /** The defaults for {@code model}. */
    public static TrainParams of(String model) {
        return DEFAULTS.withModel(model);
    }

    public TrainParams withModel(String model) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, drop);
    }

    public TrainParams withDataset(String dataset, String label, List<String> categorical) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, drop);
    }

    public TrainParams withLearningRate(double learningRate) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, drop);
    }

    public TrainParams withInit(String init) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, drop);
    }

    public TrainParams withEpochs(int epochs) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, drop);
    }

    public TrainParams withSeed(long seed) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, drop);
    }

    public TrainParams withSnapshot(String snapshot) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, drop);
    }

    /** The dataset options only tables have. */
    public Datasets.TableOptions tableOptions() {
        return new Datasets.TableOptions(label, categorical, drop);
    }

    /** The weight init to force on every layer, or null for the one suited to each activation. */
    public WeightInit weightInit() {
        return init == null ? null : Inits.parse(init);
    }

    /** The learning rate during {@code epoch} (1-based): decayed once per finished epoch. */
    public double learningRateAt(int epoch) {
        return learningRate * Math.pow(lrDecay, epoch - 1);
    }
}
