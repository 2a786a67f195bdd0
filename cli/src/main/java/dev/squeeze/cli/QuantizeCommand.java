package dev.squeeze.cli;

import dev.squeeze.compress.quant.Granularity;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.quant.QuantizeOutcome;
import dev.squeeze.compress.quant.QuantizeService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "quantize", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Quantize a trained model to int8: calibrated, checked layer by layer, ~4x smaller.",
        description = {"Post-training static quantization: weights int8 (symmetric, per output channel",
                "or per tensor), activations uint8 per tensor with a zero point, biases int32,",
                "computed with exact integer arithmetic. Activation ranges are calibrated on",
                "training examples by min/max, a percentile, or entropy (KL divergence, as",
                "TensorRT and ONNX Runtime do); 'auto' tries all three and keeps the best on",
                "the validation split. The test set is only used to report. Prints each layer's",
                "sensitivity (validation accuracy with only that layer int8) so the worst can",
                "be kept float with --keep-float. --qat-epochs fine-tunes with fake",
                "quantization (straight-through estimator) when calibration alone loses too",
                "much; --accuracy-budget tries calibrations, then QAT, until the drop is within",
                "budget.", ""},
        footer = {"", "Exit codes: 0 done, 1 budget not met (the closest model is still written),", "2 bad input.", "",
                "Examples:", "  squeeze quantize --from 3f2a9c1b",
                "  squeeze quantize --from squeeze-runs/train-ad87d3baea3e/model.zip \\",
                "      --granularity tensor --qat-epochs 3",
                "  squeeze quantize --from 3f2a9c1b --keep-float 0 --accuracy-budget 0.5"})
final class QuantizeCommand extends SqueezeSubcommand implements Callable<Integer> {
    @Mixin
    DataOptions data;
    @Mixin
    WorkspaceOptions workspace;
    @Mixin
    ExperimenterOption by;

    @Option(names = "--from", required = true, paramLabel = "RUN|FILE",
            description = "A finished train, prune or distill run id (or prefix), or a float model file.")
    String from;

    @Option(names = "--calibration", paramLabel = "METHOD", defaultValue = QuantParams.AUTO,
            description = "auto, minmax, percentile or entropy (default: ${DEFAULT-VALUE}).")
    String calibration;

    @Option(names = "--percentile", paramLabel = "P", defaultValue = "" + QuantParams.DEFAULT_PERCENTILE,
            description = "Where the percentile method clips (default: ${DEFAULT-VALUE}).")
    double percentile;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "" + QuantParams.DEFAULT_SAMPLES,
            description = "Training examples to calibrate on (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--granularity", paramLabel = "channel|tensor", defaultValue = "channel",
            description = "One weight scale per output channel, or one per layer (default: ${DEFAULT-VALUE}).")
    String granularity;

    @Option(names = "--keep-float", paramLabel = "LAYER", split = ",",
            description = "Layer indices to leave in float (see the sensitivity list), e.g. 0,6.")
    List<Integer> keepFloat;

    @Option(names = "--qat-epochs", paramLabel = "N", defaultValue = "0",
            description = "Epochs of quantization-aware training after calibration (default: ${DEFAULT-VALUE}).")
    int qatEpochs;

    @Option(names = "--accuracy-budget", paramLabel = "POINTS",
            description = "Most validation accuracy, in points, int8 may lose; QAT is tried ("
                    + QuantParams.BUDGET_QAT_EPOCHS + " epochs unless --qat-epochs says) when calibration alone is over.")
    Double accuracyBudget;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Override
    public Integer call() {
        QuantParams params = new QuantParams(null, calibration, percentile, samples, Granularity.parse(granularity),
                keepFloat, qatEpochs, accuracyBudget);
        var err = err();
        QuantizeOutcome outcome;
        try (var monitor = new ConsoleTrainingMonitor(err, CommandContext.progressBarStream(env()))) {
            outcome = new QuantizeService(by.applyTo(workspace.resolve(env())), CommandContext.datasetLocator(env(), err), monitor)
                    .quantize(from, params, data.dataDir);
        }
        print(json ? outcome.json() + System.lineSeparator() : outcome.format());
        return outcome.budgetMet() ? ExitCodes.OK : ExitCodes.FAILURE;
    }
}
