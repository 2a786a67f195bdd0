package dev.squeeze.cli;

import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.pipeline.shrink.ShrinkOutcome;
import dev.squeeze.pipeline.shrink.ShrinkParams;
import dev.squeeze.pipeline.shrink.ShrinkService;
import picocli.CommandLine.Command;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code squeeze shrink}: parses the options, runs {@link ShrinkService}, prints its table. */
@Command(name = "shrink", modelTransformer = ShrinkCommand.Options.class, mixinStandardHelpOptions = true,
        sortOptions = false,
        header = "Find the smallest (or fastest) model within an accuracy budget: int8, int4, pruning, distillation.",
        description = {"From a training run, tries what Squeeze can do, the least training first: the trained model",
                "at int8 and with 4-bit weights (no training); unstructured pruning levels, each retrained; structured",
                "pruning (neurons, or channels in convolutional networks), each level retrained; distillation into",
                "each zoo model smaller than the trained one (and the same student trained alone). Every model is",
                "measured as float, int8, int4 (dense layers at 4 bits, convolutions at 8), int8/15 and int8/31 (int8",
                "weights sharing 15 or 31 codes a layer, scaled per channel) and int8/15t and int8/31t (one scale a",
                "layer: 15 or 31 values), its pruned weights stored as ONNX sparse initializers, or packed as codes",
                "and gaps, where that is smaller. Pruning stops going deeper once a level's models are all over the",
                "budget; with",
                "--target size a student whose weights alone cannot beat the best file within the budget is not trained.",
                "",
                "Every candidate is exported to ONNX and measured like the dense float model: the raw file's size,",
                "validation and test accuracy in ONNX Runtime, and the p50 latency of one image (the in-process",
                "benchmark of 'squeeze bench'). The choice is the smallest file (or lowest latency) among the",
                "candidates whose VALIDATION accuracy is within --budget points of the dense model's; test accuracy is",
                "shown beside it and never chosen on. When none is within the budget, nothing is chosen and the output",
                "says so. The chosen model is copied to --output (and to chosen/model.onnx in the search's folder, ready",
                "for 'squeeze serve --models') and benchmarked beside the dense model.",
                "",
                "Every step is a ledger row found again by its settings' hash: the same command after Ctrl-C or a kill",
                "continues where it stopped, and another --budget or --target reuses every candidate measured before.",
                "'squeeze runs --sweep ID' lists the search's runs; its folder holds candidates.csv and report/index.html",
                "(the Pareto plots).", ""},
        footer = {"", "Examples:", "  squeeze shrink --from 3f2a9c1b --budget 0.5 --output small.onnx",
                "  squeeze shrink --from 3f2a9c1b --target latency --try quantize,structured",
                "  squeeze shrink --from 3f2a9c1b --try distill --students mlp-tiny,mlp-100",
                "  squeeze shrink --from 3f2a9c1b --rate 0.5 --levels 6  # coarser: fewer retrainings",
                "  squeeze shrink --from 3f2a9c1b --rewind-to 500it      # late rewinding",
                "  squeeze shrink --from 3f2a9c1b --scope global --conv-activations float  # CNN"})
final class ShrinkCommand extends SqueezeSubcommand implements Callable<Integer> {
    /** The search's settings and how latency is measured, as options: made from their settings records. */
    public static final class Options implements IModelTransformer {
        private static final class Search extends SettingOptions<ShrinkParams> {
            Search() {
                super(ShrinkParams.SETTINGS, Set.of());
            }
        }

        @Override
        public CommandSpec transform(CommandSpec spec) {
            return new BenchOptions().transform(new Search().transform(spec));
        }
    }

    @Mixin
    DataOptions data;

    @Option(names = "--from", required = true, paramLabel = "RUN|FILE",
            description = "A finished training run id (or unique prefix) from 'squeeze runs --stage train', or its "
                    + "model.zip.")
    String from;

    @Option(names = "--output", paramLabel = "FILE", description = "Also copy the chosen model to this .onnx file.")
    Path output;

    @Option(names = "--ledger", paramLabel = "PATH|URL",
            description = "Run ledger (default: $SQUEEZE_LEDGER, else ledger.db in $SQUEEZE_HOME or ./squeeze-runs).")
    String ledger;

    @Option(names = "--json", description = "Print the search as JSON.")
    boolean json;

    @Mixin
    ExperimenterOption by;

    @Override
    public Integer call() {
        ShrinkParams params = SettingOptions.read(spec, ShrinkParams.SETTINGS, Map.of());
        var err = err();
        Workspace workspace = by.applyTo(Workspace.fromEnvironment(env()).with(null, ledger));
        ShrinkOutcome outcome;
        try (var monitor = new ConsoleTrainingMonitor(err, CommandContext.progressBarStream(env()))) {
            outcome = new ShrinkService(workspace, CommandContext.datasetLocator(env(), err), monitor)
                    .shrink(params, from, output, BenchOptions.options(spec), data.dataDir);
        }
        print(json ? outcome.json() + System.lineSeparator() : outcome.format());
        return ExitCodes.OK;
    }
}
