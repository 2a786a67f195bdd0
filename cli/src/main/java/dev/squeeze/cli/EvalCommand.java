package dev.squeeze.cli;

import dev.squeeze.compress.eval.Evaluation;
import dev.squeeze.compress.saved.EvaluationService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Evaluate a model file: accuracy, per class, confusion matrix.",
        description = {"Inputs are normalized with the statistics saved in the model file (fitted on",
                "its training split), so evaluation sees exactly what training saw.", ""},
        footer = {"", "Example:", "  squeeze eval --model-file squeeze-runs/train-<hash>/model.zip"})
final class EvalCommand extends SqueezeSubcommand implements Callable<Integer> {
    @Mixin
    DataOptions data;

    @Option(names = "--model-file", required = true, paramLabel = "FILE", description = "A model.zip written by squeeze.")
    Path modelFile;

    @Option(names = "--dataset", paramLabel = "NAME|FILE.csv|DIR", description = "Test set to use (default: the one the "
            + "model was trained on); an image folder's images are read at the model's input size and channels.")
    String dataset;

    @Override
    public Integer call() {
        var err = err();
        Evaluation evaluation = new EvaluationService(CommandContext.datasetLocator(env(), err))
                .evaluateTestSet(modelFile, dataset, data.dataDir);
        print(evaluation.format());
        return ExitCodes.OK;
    }
}
