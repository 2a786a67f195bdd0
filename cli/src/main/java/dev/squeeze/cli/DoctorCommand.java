package dev.squeeze.cli;

import dev.squeeze.compress.doctor.Doctor;
import dev.squeeze.compress.doctor.DoctorReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

@Command(name = "doctor", modelTransformer = TrainOptions.class, mixinStandardHelpOptions = true, sortOptions = false,
        header = "Check model and data for the silent training bugs before a long run.",
        description = {"Runs, on your model and data, through the same pipeline as 'train':",
                "  overfit one batch      can the model memorise 32 examples? if not, what the loss did",
                "  initial loss           near ln(classes) before training?",
                "  activation/init pairs  ReLU with He, tanh/sigmoid with Xavier, no constant init",
                "  alignment              features and labels still paired after shuffling and batching",
                "  normalization leakage  statistics from the training split only; categorical columns untouched",
                "  labels                 class counts, imbalance, test examples copied from training",
                "  learning rate          a range test that suggests a rate and flags a diverging one",
                "One line per check: pass, warn or fail, the evidence, the fix. Loss curves are saved as",
                "CSV and PNG. Exit code 0 when nothing fails, 1 otherwise.", ""},
        footer = {"", "Examples:", "  squeeze doctor --model lenet-300-100",
                "  squeeze doctor --model mlp-tabular --dataset penguins.csv --label species --lr 1e-2"})
final class DoctorCommand extends SqueezeSubcommand implements Callable<Integer> {
    @Mixin
    DataOptions data;
    @Mixin
    WorkspaceOptions workspace;

    @Option(names = "--model", required = true, paramLabel = "NAME", description = "Zoo model ('squeeze models' lists them).")
    String model;


    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    @Override
    public Integer call() {
        var err = err();
        DoctorReport report = new Doctor(workspace.resolve(env()), CommandContext.datasetLocator(env(), err),
                line -> {
                    err.println(line);
                    err.flush();
                }).examine(TrainOptions.params(spec, model), data.dataDir);
        print(json ? report.json() + System.lineSeparator() : report.format());
        return report.failed() ? ExitCodes.FAILURE : ExitCodes.OK;
    }
}
