package dev.squeeze.cli;

import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.onnx.ExportOutcome;
import dev.squeeze.compress.onnx.ExportParams;
import dev.squeeze.compress.onnx.ExportService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "export", modelTransformer = ExportOptions.class, mixinStandardHelpOptions = true, sortOptions = false,
        header = "Export a float or int8 model to ONNX, checked in ONNX Runtime before it is written.",
        description = {"A float model becomes Gemm/Conv/pooling nodes (batch normalization folded,",
                "dropout dropped); an int8 model (from 'squeeze quantize') becomes QDQ: int8",
                "per-channel weights, uint8 activations, int32 biases, which ONNX Runtime fuses",
                "into QGemm/QLinearConv. The input is raw features ([batch, 1, 28, 28] pixel",
                "values 0-255 for images): normalization is in the graph. Outputs: logits and",
                "probabilities. Before writing, the graph runs in ONNX Runtime on the test set:",
                "its accuracy and its agreement with the source model are printed and stored in",
                "the file's metadata (key 'squeeze', with the run ids, config hash, code commit",
                "and library versions; 'classes' holds the labels). IR 8, opset 17, symbolic",
                "batch dimension. A pruned model's weights are stored as ONNX sparse",
                "initializers where that makes the file smaller (--sparse); ONNX Runtime",
                "makes them dense again when it loads the file.", ""},
        footer = {"", "Examples:", "  squeeze export --from 3f2a9c1b --output lenet.onnx",
                "  squeeze export --from squeeze-runs/quantize-3448ab0531da/model.zip \\",
                "      --output lenet-int8.onnx"})
final class ExportCommand extends SqueezeSubcommand implements Callable<Integer> {
    @Mixin
    DataOptions data;

    @Option(names = "--from", required = true, paramLabel = "RUN|FILE",
            description = "A finished run id (or prefix) or a model file, float or int8.")
    String from;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "The .onnx file to write.")
    Path output;

    @Option(names = "--ledger", paramLabel = "PATH|URL",
            description = "Run ledger (default: $SQUEEZE_LEDGER, else ledger.db in $SQUEEZE_HOME or ./squeeze-runs).")
    String ledger;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;
    @Mixin
    ExperimenterOption by;

    @Override
    public Integer call() {
        ExportParams settings = ExportOptions.params(spec);
        var err = err();
        Workspace workspace = by.applyTo(Workspace.fromEnvironment(env()).with(null, ledger));
        ExportOutcome outcome;
        try (var monitor = new ConsoleTrainingMonitor(err, CommandContext.progressBarStream(env()))) {
            outcome = new ExportService(workspace, CommandContext.datasetLocator(env(), err), monitor)
                    .export(from, output, settings, data.dataDir);
        }
        print(json ? outcome.json() + System.lineSeparator() : outcome.format());
        return ExitCodes.OK;
    }
}
