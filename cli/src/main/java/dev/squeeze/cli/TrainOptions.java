package dev.squeeze.cli;

import dev.squeeze.compress.train.Refit;
import dev.squeeze.compress.train.TrainParams;
import picocli.CommandLine.Option;

import java.util.List;

/**
 * The training settings other than the model, shared by {@code train} and {@code sweep} (where they are the base
 * every trial starts from). Defaults come from {@link TrainParams}.
 */
final class TrainOptions {
    @Option(names = "--dataset", paramLabel = "NAME|FILE.csv", defaultValue = TrainParams.DEFAULT_DATASET,
            description = "fashion-mnist, mnist, or a CSV file with a header row (default: ${DEFAULT-VALUE}).")
    String dataset;

    @Option(names = "--label", paramLabel = "COLUMN",
            description = "CSV datasets: the label column (default: the last column).")
    String label;

    @Option(names = "--categorical", paramLabel = "COLUMN", split = ",",
            description = "CSV datasets: columns to treat as categories (one-hot, never standardised); "
                    + "default: inferred (text columns, and numeric columns with two values).")
    List<String> categorical;

    @Option(names = "--drop", paramLabel = "COLUMN", split = ",",
            description = "CSV datasets: columns to leave out, such as an id or a name that identifies rows (a column "
                    + "with more distinct values than half the rows is refused until it is dropped or declared "
                    + "--categorical).")
    List<String> drop;

    @Option(names = "--snapshot", paramLabel = "POINT",
            description = "Also save the weights and optimizer state after this many steps (500it) or epochs (1ep), "
                    + "for lottery-ticket late rewinding (the initialisation is always saved).")
    String snapshot;

    @Option(names = "--init", paramLabel = "NAME",
            description = "One weight init for every layer: he, xavier, zero, ... (default: the init that suits "
                    + "each layer's activation, He for ReLU and Xavier for tanh/sigmoid).")
    String init;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "" + TrainParams.DEFAULT_EPOCHS,
            description = "Most epochs; early stopping may end sooner (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "" + TrainParams.DEFAULT_BATCH,
            description = "Mini-batch size (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", paramLabel = "X", defaultValue = "" + TrainParams.DEFAULT_LEARNING_RATE,
            description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--lr-decay", paramLabel = "F", defaultValue = "" + TrainParams.DEFAULT_LR_DECAY,
            description = "Multiply the learning rate by F after every epoch; 1 keeps it constant (default: ${DEFAULT-VALUE}).")
    double lrDecay;

    @Option(names = "--example-decay", paramLabel = "F", defaultValue = "" + TrainParams.DEFAULT_EXAMPLE_DECAY,
            description = "Also decay the learning rate by at least F per " + TrainParams.EXAMPLE_DECAY_PER + " training "
                    + "examples seen, so a large dataset anneals as fast as one with many steps per epoch needs; 1 turns "
                    + "it off (default: ${DEFAULT-VALUE}).")
    double exampleDecay;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "" + TrainParams.DEFAULT_SEED,
            description = "Seed for initial weights, dropout and shuffling; same seed, data and threads give "
                    + "identical weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--patience", paramLabel = "N", defaultValue = "" + TrainParams.DEFAULT_PATIENCE,
            description = "Stop after N epochs in a row whose validation accuracy falls short of the best by "
                    + "--tolerance or more (default: ${DEFAULT-VALUE}).")
    int patience;

    @Option(names = "--tolerance", paramLabel = "SE", defaultValue = "" + TrainParams.DEFAULT_TOLERANCE,
            description = "An epoch within SE standard errors of the best validation accuracy (sqrt(p(1-p)/n), n "
                    + "validation examples) still counts: its weights are kept and patience restarts; 0 counts only "
                    + "a better accuracy (default: ${DEFAULT-VALUE}).")
    double tolerance;

    @Option(names = "--refit", paramLabel = "WHEN", defaultValue = "auto",
            description = "auto, always or never: end by training a fresh network on the training and validation "
                    + "examples together for the epochs the validation chose, keeping its last weights; auto does "
                    + "when the training split has fewer than " + Refit.AUTO_BELOW + " examples (default: ${DEFAULT-VALUE}).")
    String refit;

    @Option(names = "--val-fraction", paramLabel = "F", defaultValue = "" + TrainParams.DEFAULT_VALIDATION_FRACTION,
            description = "Share of the training set held out for validation, with a fixed seed (default: ${DEFAULT-VALUE}).")
    double validationFraction;

    /** These settings for {@code model} (null when a sweep's grid names the models). */
    TrainParams params(String model) {
        return new TrainParams(model, dataset, epochs, batch, lr, seed, patience, validationFraction, lrDecay, init,
                label, categorical, snapshot, tolerance, Refit.parse(refit), exampleDecay, drop);
    }
}
