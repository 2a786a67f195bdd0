package dev.squeeze.compress.train;

import dev.squeeze.core.settings.Setting;
import dev.squeeze.core.settings.SettingSpec;
import dev.squeeze.core.settings.StageSettings;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.zoo.Inits;
import org.deeplearning4j.nn.weights.WeightInit;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

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
 * @param imageSize          an image folder's image size, {@code HxW}, or null for the first image's
 * @param channels           an image folder's channels (1 grey, 3 RGB), or null for 1 when every image is grey
 * @param augment            the changes made to training batches' images ({@link Augmentation}), or null for none
 */
public record TrainParams(
        @Setting(help = "Zoo model to train ('squeeze models' lists them).", label = "NAME", check = SettingChecks.ZooModel.class)
        String model,
        @Setting(help = "fashion-mnist, mnist, a CSV file with a header row, or a folder of images in train/CLASS/ (and "
                + "optionally test/CLASS/) folders.", label = "NAME|FILE.csv|DIR",
                defaultValue = DEFAULT_DATASET, check = SettingChecks.Dataset.class, sweep = false)
        String dataset,
        @Setting(help = "Most epochs; early stopping may end sooner. Each prune level retrains as long.", defaultValue = "30", min = 1)
        int epochs,
        @Setting(help = "Mini-batch size.", label = "B", defaultValue = "60", min = 1)
        int batch,
        @Setting(name = "lr", help = "Adam learning rate.", defaultValue = "1e-3", min = 0, minExclusive = true)
        double learningRate,
        @Setting(help = "Seed for initial weights, dropout and shuffling; same seed, data and threads give identical "
                + "weights.", label = "S", defaultValue = "42")
        long seed,
        @Setting(help = "Stop after this many epochs in a row whose validation accuracy falls short of the best "
                + "by the tolerance or more.", defaultValue = "3", min = 1)
        int patience,
        @Setting(name = "val-fraction", help = "Share of the training set held out for validation, with a fixed seed.",
                label = "F", defaultValue = "0.1", min = 0, minExclusive = true, max = 1, maxExclusive = true)
        double validationFraction,
        @Setting(help = "Multiply the learning rate by this after every epoch; 1 keeps it constant.", label = "F",
                defaultValue = "0.95", hashedAs = "0.8", min = 0, minExclusive = true, max = 1)
        double lrDecay,
        @Setting(help = "One weight init for every layer: he, xavier, zero, ... (default: the init that suits each "
                + "layer's activation, He for ReLU and Xavier for tanh/sigmoid).", label = "NAME",
                check = SettingChecks.WeightInitName.class)
        String init,
        @Setting(help = "CSV datasets: the label column (default: the last column).", label = "COLUMN", sweep = false)
        String label,
        @Setting(help = "CSV datasets: columns to treat as categories (one-hot, never standardised); default: inferred "
                + "(text columns, and numeric columns with two values).", label = "COLUMN", sweep = false)
        List<String> categorical,
        @Setting(help = "Also save the weights and optimizer state after this many steps (500it) or epochs (1ep), for "
                + "lottery-ticket late rewinding (the initialisation is always saved).", label = "POINT",
                check = SettingChecks.TrainingPoint.class, sweep = false)
        String snapshot,
        @Setting(help = "An epoch within this many standard errors of the best validation accuracy (sqrt(p(1-p)/n), n "
                + "validation examples) still counts: its weights are kept and patience restarts; 0 counts only a "
                + "better accuracy.", label = "SE", defaultValue = "2", hashedAs = "0", min = 0)
        double tolerance,
        @Setting(help = "End by training a fresh network on the training and validation examples together for the "
                + "epochs the validation chose, keeping its last weights; auto does when the training split has fewer "
                + "than " + Refit.AUTO_BELOW + " examples.", label = "WHEN", defaultValue = "auto", hashedAs = "never")
        Refit refit,
        @Setting(help = "Also decay the learning rate by at least this much per " + EXAMPLE_DECAY_PER + " training examples "
                + "seen, so a large dataset anneals as fast as one with many steps per epoch needs; 1 turns it off.",
                label = "F", defaultValue = "0.8", hashedAs = "1", min = 0, minExclusive = true, max = 1)
        double exampleDecay,
        @Setting(help = "CSV datasets: columns to leave out, such as an id or a name that identifies rows (a column "
                + "with more distinct values than half the rows is refused until it is dropped or declared "
                + "categorical).", label = "COLUMN", sweep = false)
        List<String> drop,
        @Setting(name = "image-size", help = "Image folders: read every image at this many pixels, resizing (stretching) "
                + "those of another size (default: the first image's size).", label = "HxW",
                check = SettingChecks.ImageSize.class, sweep = false)
        String imageSize,
        @Setting(help = "Image folders: 1 reads the images grey, 3 in RGB (default: 1 when every image is stored grey, "
                + "else 3).", label = "1|3", min = 1, max = 3, sweep = false)
        Integer channels,
        @Setting(help = "Change each training batch's images at random, never validation or test images: flip (mirror "
                + "left-right), vflip (upside down), crop (shift by up to an eighth of the side, the edge black). "
                + "'squeeze doctor' checks it, and warns of flips that change what the dataset's labels mean.",
                label = "KIND", choices = {"flip", "vflip", "crop"}, sweep = false)
        List<String> augment) {

    /** The settings, as options, recipe keys and sweep keys see them. */
    public static final StageSettings<TrainParams> SETTINGS = StageSettings.of(TrainParams.class);

    public static final String DEFAULT_DATASET = "fashion-mnist";
    /** {@code exampleDecay} applies once per this many training examples seen. */
    public static final int EXAMPLE_DECAY_PER = 54_000;

    /** The defaults; fields equal to these are left out of the configuration hash. */
    public static final TrainParams DEFAULTS = SETTINGS.defaults();
    public static final int DEFAULT_EPOCHS = DEFAULTS.epochs();
    public static final int DEFAULT_BATCH = DEFAULTS.batch();
    public static final double DEFAULT_LEARNING_RATE = DEFAULTS.learningRate();
    public static final long DEFAULT_SEED = DEFAULTS.seed();
    public static final int DEFAULT_PATIENCE = DEFAULTS.patience();
    public static final double DEFAULT_VALIDATION_FRACTION = DEFAULTS.validationFraction();
    public static final double DEFAULT_LR_DECAY = DEFAULTS.lrDecay();
    public static final double DEFAULT_TOLERANCE = DEFAULTS.tolerance();
    public static final Refit DEFAULT_REFIT = DEFAULTS.refit();
    public static final double DEFAULT_EXAMPLE_DECAY = DEFAULTS.exampleDecay();

    /**
     * What configuration hashes are taken against: every setting at its {@link Setting#hashedAs()}, which for the
     * schedule and the stopping rule are the defaults before issue 17 changed them (only a strictly better accuracy
     * counting). Hashed against the current defaults, a default run would keep the hash of the default runs made
     * before a default changed, and {@code train} would reuse (or resume) a run made under the old meaning; this way a
     * changed default moves the runs it changes to new folders, and every older run keeps its hash.
     */
    public static final TrainParams HASH_BASE = SETTINGS.hashBase();

    /**
     * Normalises what older configurations left out; the ranges are checked where the values come in (options,
     * recipes, grids) and by {@link #SETTINGS}{@code .check} before a stage runs.
     */
    public TrainParams {
        if (refit == null) refit = Refit.NEVER;
        if (exampleDecay == 0) exampleDecay = 1;
        categorical = categorical == null ? null : List.copyOf(categorical);
        drop = drop == null || drop.isEmpty() ? null : List.copyOf(drop);
        augment = augment == null || augment.isEmpty() ? null : List.copyOf(augment);
    }

    /**
     * Settings that drop no CSV column. Built by setting name, as every factory here is, so that a component added to
     * the record needs no change to them.
     */
    public static TrainParams of(String model, String dataset, int epochs, int batch, double learningRate, long seed,
                                 int patience, double validationFraction, double lrDecay, String init, String label,
                                 List<String> categorical, String snapshot, double tolerance, Refit refit,
                                 double exampleDecay) {
        return named("model", model, "dataset", dataset, "epochs", epochs, "batch", batch, "lr", learningRate,
                "seed", seed, "patience", patience, "val-fraction", validationFraction, "lr-decay", lrDecay,
                "init", init, "label", label, "categorical", categorical, "snapshot", snapshot, "tolerance", tolerance,
                "refit", refit, "example-decay", exampleDecay);
    }

    /** Settings of image datasets, with the init that suits each activation and the other settings at their defaults. */
    public static TrainParams of(String model, String dataset, int epochs, int batch, double learningRate, long seed,
                                 int patience, double validationFraction, double lrDecay) {
        return named("model", model, "dataset", dataset, "epochs", epochs, "batch", batch, "lr", learningRate,
                "seed", seed, "patience", patience, "val-fraction", validationFraction, "lr-decay", lrDecay);
    }

    private static TrainParams named(Object... namesAndValues) {
        Map<String, Object> values = new HashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) values.put((String) namesAndValues[i], namesAndValues[i + 1]);
        return SETTINGS.build(values);
    }

    /** A training setting named both ways the user gives it, for advice: {@code --lr or train.lr}. */
    public static String mention(String setting) {
        return SETTINGS.setting(setting).orElseThrow().mention("train");
    }

    /** The defaults for {@code model}. */
    public static TrainParams of(String model) {
        return DEFAULTS.withModel(model);
    }

    public TrainParams withModel(String model) {
        return SETTINGS.with(this, "model", model);
    }

    public TrainParams withDataset(String dataset, String label, List<String> categorical) {
        return SETTINGS.with(SETTINGS.with(SETTINGS.with(this, "dataset", dataset), "label", label), "categorical", categorical);
    }

    public TrainParams withLearningRate(double learningRate) {
        return SETTINGS.with(this, "lr", learningRate);
    }

    public TrainParams withInit(String init) {
        return SETTINGS.with(this, "init", init);
    }

    public TrainParams withEpochs(int epochs) {
        return SETTINGS.with(this, "epochs", epochs);
    }

    public TrainParams withSeed(long seed) {
        return SETTINGS.with(this, "seed", seed);
    }

    public TrainParams withSnapshot(String snapshot) {
        return SETTINGS.with(this, "snapshot", snapshot);
    }

    /**
     * The settings of the refit that ends a run whose validation chose {@code epochs}: that many epochs, no early
     * stop, the same schedule and seed; never refits again.
     */
    public TrainParams forRefit(int epochs) {
        return SETTINGS.with(SETTINGS.with(withEpochs(epochs), "patience", epochs), "refit", Refit.NEVER);
    }

    public TrainParams withRefit(Refit refit) {
        return SETTINGS.with(this, "refit", refit);
    }

    /** The dataset options only tables have. */
    public Datasets.TableOptions tableOptions() {
        return new Datasets.TableOptions(label, categorical, drop);
    }

    /**
     * The dataset these settings train on, opened with their table and image options: every stage that reads a
     * training run's data opens it here, so none can leave an option out.
     *
     * @param dataDir where the dataset's files are, or null to locate them
     * @param notices told, one line each, what was done to the data
     */
    public Dataset openDataset(Path dataDir, DatasetLocator locator, Consumer<String> notices) {
        return Datasets.open(dataset, dataDir, locator, tableOptions(), imageOptions(), notices);
    }

    /** The dataset options only image folders have: the size and channels to read their images at. */
    public Datasets.ImageOptions imageOptions() {
        return Datasets.ImageOptions.of(imageSize, channels);
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

    /**
     * The schedule as training prints it before the first epoch, saying when {@code --example-decay} rather than
     * {@code --lr-decay} sets the pace (a user who asked for {@code --lr-decay 0.9} otherwise learns it only from a
     * learning rate that fell faster than asked).
     */
    public String scheduleLine(int trainExamples) {
        double perEpoch = decayPerEpoch(trainExamples);
        String line = String.format(Locale.ROOT, "learning rate %s, x%.3f per epoch (%.2g by epoch %d)",
                SettingSpec.number(learningRate), perEpoch, learningRateAt(epochs, trainExamples), epochs);
        if (perEpoch < lrDecay) {
            line += String.format(Locale.ROOT, ": --example-decay %s per %d examples is faster than --lr-decay"
                    + " %s on %d training examples; --example-decay 1 keeps --lr-decay's pace",
                    SettingSpec.number(exampleDecay), EXAMPLE_DECAY_PER, SettingSpec.number(lrDecay), trainExamples);
        }
        return line;
    }

    /** {@code min(lrDecay, exampleDecay^(trainExamples / 54,000))}: the faster of the two decays. */
    public double decayPerEpoch(int trainExamples) {
        return Math.min(lrDecay, Math.pow(exampleDecay, (double) trainExamples / EXAMPLE_DECAY_PER));
    }
}
