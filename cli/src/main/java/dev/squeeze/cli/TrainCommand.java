package dev.squeeze.cli;

import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Train a zoo model, guarded against silent bugs; record the run.",
        description = {"Guards: features and labels are shuffled together, a NaN loss stops training at",
                "once, early stopping keeps the best epoch, every epoch is checkpointed atomically.",
                "The run is named by the hash of its settings: the same command again reuses a",
                "finished run or resumes an interrupted one. Every run is a row in the ledger",
                "('squeeze runs').", ""},
        footer = {"", "Example:", "  squeeze train --model lenet-300-100 --epochs 20 --lr 1e-3"})
final class TrainCommand implements Callable<Integer> {
    @ParentCommand
    SqueezeCommand root;
    @Spec
    CommandSpec spec;
    @Mixin
    VerboseOption verbose;
    @Mixin
    DataOptions data;
    @Mixin
    WorkspaceOptions workspace;

    @Option(names = "--model", required = true, paramLabel = "NAME", description = "Zoo model ('squeeze models' lists them).")
    String model;

    @Option(names = "--dataset", paramLabel = "NAME", defaultValue = TrainParams.DEFAULT_DATASET,
            description = "fashion-mnist or mnist (default: ${DEFAULT-VALUE}).")
    String dataset;

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

    @Option(names = "--seed", paramLabel = "S", defaultValue = "" + TrainParams.DEFAULT_SEED,
            description = "Seed for initial weights, dropout and shuffling; same seed, data and threads give "
                    + "identical weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--patience", paramLabel = "N", defaultValue = "" + TrainParams.DEFAULT_PATIENCE,
            description = "Stop after N epochs without a better validation accuracy (default: ${DEFAULT-VALUE}).")
    int patience;

    @Option(names = "--val-fraction", paramLabel = "F", defaultValue = "" + TrainParams.DEFAULT_VALIDATION_FRACTION,
            description = "Share of the training set held out for validation, with a fixed seed (default: ${DEFAULT-VALUE}).")
    double validationFraction;

    @Option(names = "--force", description = "Train again even if this exact configuration has already finished.")
    boolean force;

    @Override
    public Integer call() {
        TrainParams params = new TrainParams(model, dataset, epochs, batch, lr, seed, patience, validationFraction, lrDecay);
        var err = spec.commandLine().getErr();
        try (var monitor = new ConsoleTrainingMonitor(err, CommandContext.progressBarStream(root.env()))) {
            var service = new TrainingService(workspace.resolve(root.env()),
                    CommandContext.datasetLocator(root.env(), err), monitor);
            TrainOutcome outcome = service.train(params, data.dataDir, force);
            spec.commandLine().getOut().print(outcome.format());
            spec.commandLine().getOut().flush();
        }
        return ExitCodes.OK;
    }
}
