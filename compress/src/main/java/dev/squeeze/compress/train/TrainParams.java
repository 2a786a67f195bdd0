package dev.squeeze.compress.train;

import dev.squeeze.compress.artifacts.RewindPoint;
import dev.squeeze.core.BadInputException;
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
 * @param tolerance          how many standard errors of the validation accuracy an epoch may fall short of the best
 *                           so far and still count: it becomes the kept checkpoint and patience starts again. 0 counts
 *                           only a strictly better accuracy
 * @param refit              whether to end by training a fresh network on training and validation examples together for
 *                           the epochs the validation chose ({@link Refit}); null, in configurations written before
 *                           refitting existed, reads as {@link Refit#NEVER}
 * @param exampleDecay       the learning rate also decays by at least this much per {@value #EXAMPLE_DECAY_PER} training
 *                           examples seen (one epoch of the Fashion-MNIST split the decay was tuned on): each epoch
 *                           multiplies it by {@code min(lrDecay, exampleDecay^(n / 54,000))} for a training split of n
 *                           examples. A large dataset takes many steps per epoch and needs the faster decay; a small
 *                           one still anneals within its epochs by {@code lrDecay}. 1 turns it off; 0, in
 *                           configurations written before it existed, reads as 1
 * @param drop               a CSV dataset's columns to leave out (an id, a name), or null
 */
public record TrainParams(String model, String dataset, int epochs, int batch, double learningRate, long seed,
                          int patience, double validationFraction, double lrDecay, String init, String label,
                          List<String> categorical, String snapshot, double tolerance,
                          Refit refit, double exampleDecay, List<String> drop) {

    public static final String DEFAULT_DATASET = "fashion-mnist";
    public static final int DEFAULT_EPOCHS = 30;
    public static final int DEFAULT_BATCH = 60;
    public static final double DEFAULT_LEARNING_RATE = 1e-3;
    public static final long DEFAULT_SEED = 42;
    public static final int DEFAULT_PATIENCE = 3;
    public static final double DEFAULT_VALIDATION_FRACTION = 0.1;
    public static final double DEFAULT_LR_DECAY = 0.95;
    public static final double DEFAULT_TOLERANCE = 2;
    public static final Refit DEFAULT_REFIT = Refit.AUTO;
    public static final double DEFAULT_EXAMPLE_DECAY = 0.8;
    /** {@code exampleDecay} applies once per this many training examples seen. */
    public static final int EXAMPLE_DECAY_PER = 54_000;

    /** The defaults; fields equal to these are left out of the configuration hash. */
    public static final TrainParams DEFAULTS = new TrainParams(null, DEFAULT_DATASET, DEFAULT_EPOCHS, DEFAULT_BATCH,
            DEFAULT_LEARNING_RATE, DEFAULT_SEED, DEFAULT_PATIENCE, DEFAULT_VALIDATION_FRACTION, DEFAULT_LR_DECAY, null, null,
            null, null, DEFAULT_TOLERANCE, DEFAULT_REFIT, DEFAULT_EXAMPLE_DECAY, null);

    /**
     * What configuration hashes are taken against: the defaults as they were before issue 17 changed the schedule and
     * the stopping rule, with only a strictly better accuracy counting. Settings equal to these are left out of the
     * hash. Hashed against the current defaults, a default run would keep the hash of the default runs made before a
     * default changed, and {@code train} would reuse (or resume) a run made under the old meaning; this way a changed
     * default moves the runs it changes to new folders, and every older run keeps its hash.
     */
    public static final TrainParams HASH_BASE = new TrainParams(null, DEFAULT_DATASET, DEFAULT_EPOCHS, DEFAULT_BATCH,
            DEFAULT_LEARNING_RATE, DEFAULT_SEED, 3, DEFAULT_VALIDATION_FRACTION, 0.8, null, null, null, null, 0,
            Refit.NEVER, 1, null);

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
        if (!(tolerance >= 0) || !Double.isFinite(tolerance)) {
            throw new BadInputException("--tolerance must be a number of standard errors >= 0 (0 counts only a better "
                    + "validation accuracy), got " + tolerance);
        }
        if (refit == null) refit = Refit.NEVER;
        if (exampleDecay == 0) exampleDecay = 1;
        if (!(exampleDecay > 0 && exampleDecay <= 1)) {
            throw new BadInputException("--example-decay must lie in (0, 1] (1 turns it off), got " + exampleDecay);
        }
        if (init != null) Inits.parse(init);
        categorical = categorical == null ? null : List.copyOf(categorical);
        if (snapshot != null) snapshot = RewindPoint.parse(snapshot).label();
        drop = drop == null || drop.isEmpty() ? null : List.copyOf(drop);
    }

    /** Settings that drop no CSV column. */
    public TrainParams(String model, String dataset, int epochs, int batch, double learningRate, long seed,
                       int patience, double validationFraction, double lrDecay, String init, String label,
                       List<String> categorical, String snapshot, double tolerance, Refit refit, double exampleDecay) {
        this(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay, init, label,
                categorical, snapshot, tolerance, refit, exampleDecay, null);
    }

    /** Settings of image datasets, with the init that suits each activation. */
    public TrainParams(String model, String dataset, int epochs, int batch, double learningRate, long seed,
                       int patience, double validationFraction, double lrDecay) {
        this(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay, null, null, null,
                null, DEFAULT_TOLERANCE, DEFAULT_REFIT, DEFAULT_EXAMPLE_DECAY, null);
    }

    /** The defaults for {@code model}. */
    public static TrainParams of(String model) {
        return DEFAULTS.withModel(model);
    }

    public TrainParams withModel(String model) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, tolerance, refit, exampleDecay, drop);
    }

    public TrainParams withDataset(String dataset, String label, List<String> categorical) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, tolerance, refit, exampleDecay, drop);
    }

    public TrainParams withLearningRate(double learningRate) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, tolerance, refit, exampleDecay, drop);
    }

    public TrainParams withInit(String init) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, tolerance, refit, exampleDecay, drop);
    }

    public TrainParams withEpochs(int epochs) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, tolerance, refit, exampleDecay, drop);
    }

    public TrainParams withSeed(long seed) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, tolerance, refit, exampleDecay, drop);
    }

    public TrainParams withSnapshot(String snapshot) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, tolerance, refit, exampleDecay, drop);
    }

    /**
     * The settings of the refit that ends a run whose validation chose {@code epochs}: that many epochs, no early
     * stop, the same schedule and seed; never refits again.
     */
    public TrainParams forRefit(int epochs) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, epochs, validationFraction, lrDecay,
                init, label, categorical, snapshot, tolerance, Refit.NEVER, exampleDecay, drop);
    }

    public TrainParams withRefit(Refit refit) {
        return new TrainParams(model, dataset, epochs, batch, learningRate, seed, patience, validationFraction, lrDecay,
                init, label, categorical, snapshot, tolerance, refit, exampleDecay, drop);
    }

    /** The dataset options only tables have. */
    public Datasets.TableOptions tableOptions() {
        return new Datasets.TableOptions(label, categorical, drop);
    }

    /** The weight init to force on every layer, or null for the one suited to each activation. */
    public WeightInit weightInit() {
        return init == null ? null : Inits.parse(init);
    }

    /**
     * The learning rate during {@code epoch} (1-based) on a training split of {@code trainExamples}: decayed once per
     * finished epoch, by {@link #decayPerEpoch}.
     */
    public double learningRateAt(int epoch, int trainExamples) {
        return learningRate * Math.pow(decayPerEpoch(trainExamples), epoch - 1);
    }

    /** {@code min(lrDecay, exampleDecay^(trainExamples / 54,000))}: the faster of the two decays. */
    public double decayPerEpoch(int trainExamples) {
        return Math.min(lrDecay, Math.pow(exampleDecay, (double) trainExamples / EXAMPLE_DECAY_PER));
    }
}
