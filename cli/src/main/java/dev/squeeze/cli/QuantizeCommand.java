package dev.squeeze.cli;

import dev.squeeze.compress.onnx.quantize.OnnxData;
import dev.squeeze.compress.onnx.quantize.OnnxModelFile;
import dev.squeeze.compress.onnx.quantize.OnnxQuantizeOutcome;
import dev.squeeze.compress.onnx.quantize.OnnxQuantizeService;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.quant.QuantizeOutcome;
import dev.squeeze.compress.quant.QuantizeService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Datasets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

@Command(name = "quantize", modelTransformer = QuantizeCommand.Options.class, mixinStandardHelpOptions = true, sortOptions = false,
        header = "Quantize a trained model (int8, or 4-bit dense weights) or any ONNX file (int8).",
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
                "budget.", "",
                "--bits 4 gives each dense layer block-wise int4 weights (--block-size weights",
                "along its inputs share a float scale; codes -7..7) and keeps its activations",
                "float, as ONNX Runtime's MatMulNBits computes; convolutions stay int8 (no 4-bit",
                "kernel). The sensitivity list then says what each dense layer loses at 4 bits:",
                "keep the worst at 8 with --keep-8bit. QAT trains the 4-bit weights block-wise.",
                "'squeeze export' writes them as opset 21 INT4 DequantizeLinear.", "",
                "--weight-sharing K clusters each int8 layer's non-zero weights into at most K",
                "values (Deep Compression's weight sharing); still int8 and computed as such, but",
                "'squeeze export' then packs a pruned layer's weights as short codes and gaps.", "",
                "An ONNX file (recognised by its content) is quantized statically when --inputs",
                "are given (--mode auto): QDQ with int8 weights and uint8 activations whose",
                "ranges are calibrated on three quarters of the inputs (--calibration, --samples;",
                "auto tries each method on those and keeps the best), fused by ONNX Runtime into",
                "QLinearMatMul, QLinearConv and QGemm; what it cost is measured on the other",
                "quarter. Without inputs (or --mode dynamic) it is quantized dynamically, as",
                "ONNX Runtime's quantize_dynamic does: int8 weights, activations quantized at",
                "run time, no data needed; embedding tables read by Gather are stored as int8",
                "(a scale per row; dynamic mode). Prints every candidate node and why any was left",
                "float; keep nodes float by name with --keep-float. The graph must run ONNX",
                "Runtime's integer kernels before it is written. With --inputs it measures what",
                "int8 cost, and each node's sensitivity (the figures with only that node int8,",
                "worst first). --accuracy-budget FIGURE bounds a figure on the first output",
                "(OUTPUT:FIGURE for another): cosine>=X, cosine-worst>=X, rel-l2<=X,",
                "max-abs<=X, or top1-drop<=POINTS (against the labels if given, else the float",
                "model's top-1); the most sensitive nodes stay float until it holds.", "",
                "--dataset NAME|FILE.csv|DIR takes the place of --inputs for a model that takes the",
                "dataset's raw features (a Squeeze export, say): static mode calibrates on its",
                "training split (--samples) and measures on its test split, labels included:",
                "the float and int8 accuracy and the drop, recorded in the ledger row and the",
                "file's provenance; accuracy-drop<=POINTS bounds it.", ""},
        footer = {"", "Exit codes: 0 done, 1 budget not met (the closest model is still written),", "2 bad input.", "",
                "Examples:", "  squeeze quantize --from 3f2a9c1b",
                "  squeeze quantize --from squeeze-runs/train-ad87d3baea3e/model.zip \\",
                "      --granularity tensor --qat-epochs 3",
                "  squeeze quantize --from 3f2a9c1b --keep-float 0 --accuracy-budget 0.5",
                "  squeeze quantize --from 3f2a9c1b --bits 4 --keep-8bit 0",
                "  squeeze quantize --from 3f2a9c1b --weight-sharing 15",
                "  squeeze quantize --from model.onnx --onnx-output model-int8.onnx",
                "  squeeze quantize --from model.onnx --inputs calibration.npz --calibration entropy",
                "  squeeze quantize --from model.onnx --inputs requests/ --accuracy-budget 'cosine>=0.999'",
                "  squeeze quantize --from model.onnx --dataset fashion-mnist --accuracy-budget 'accuracy-drop<=0.5'"})
final class QuantizeCommand extends SqueezeSubcommand implements Callable<Integer> {
    @Mixin
    StageOptions stage;

    @Option(names = "--from", required = true, paramLabel = "RUN|FILE",
            description = "A finished train, prune or distill run id (or prefix), a float model file, or an ONNX file.")
    String from;

    // Not --output: on every stage command that names the runs folder.
    @Option(names = "--onnx-output", paramLabel = "FILE",
            description = "ONNX files: also copy the quantized .onnx file here (it is always in the run folder).")
    Path onnxOutput;

    @Option(names = "--inputs", paramLabel = "FILE|DIR",
            description = "ONNX files: the model's inputs, to calibrate static mode on (three quarters of them) and to "
                    + "measure what int8 cost against the float model (the other quarter; all of them in dynamic mode): "
                    + "cosine, max and relative error per output; top-1 agreement for [N, classes] scores; accuracy with "
                    + "a 'labels' array. An .npz (arrays named after the inputs), an .npy (one-input models), or a "
                    + "folder of Open Inference Protocol JSON request bodies.")
    Path inputs;

    @Option(names = "--dataset", paramLabel = "NAME|FILE.csv|DIR",
            description = "ONNX files that take a dataset's raw features (pixels 0-255, a table's values, as Squeeze's "
                    + "exports do): measure int8 against float on its test split, with the float and int8 accuracy; "
                    + "calibration examples come from its training split (--samples). fashion-mnist, mnist, a CSV "
                    + "file, or an image folder (read at the input's size and channels when the model declares "
                    + "[N, C, H, W], else as train reads it). Not with --inputs.")
    String dataset;

    @Option(names = "--label", paramLabel = "COLUMN",
            description = "With --dataset FILE.csv: the label column the model was trained with (default: the last).")
    String label;

    @Option(names = "--categorical", paramLabel = "COLUMN", split = ",",
            description = "With --dataset FILE.csv: the columns the model was trained to take one-hot (default: inferred).")
    List<String> categorical;

    @Option(names = "--drop", paramLabel = "COLUMN", split = ",",
            description = "With --dataset FILE.csv: the columns the model was trained without.")
    List<String> drop;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    /** The quantization settings as options, made from {@link QuantParams}' settings. */
    public static final class Options extends SettingOptions<QuantParams> {
        public Options() {
            super(QuantParams.SETTINGS, Set.of());
        }
    }

    @Override
    public Integer call() {
        QuantParams params = SettingOptions.read(spec, QuantParams.SETTINGS, Map.of());
        var err = err();
        Datasets.TableOptions table = new Datasets.TableOptions(label, categorical, drop);
        if (table.given() && dataset == null) {
            throw new BadInputException("--label/--categorical/--drop describe the CSV file given with --dataset; give "
                    + "--dataset FILE.csv");
        }
        if (OnnxModelFile.isOnnxCandidate(from)) {
            OnnxData data = dataset != null ? new OnnxData(inputs, dataset, stage.dataDir(), table) : OnnxData.inputs(inputs);
            OnnxQuantizeOutcome onnx;
            try (var monitor = new ConsoleTrainingMonitor(err, CommandContext.progressBarStream(env()))) {
                onnx = new OnnxQuantizeService(stage.workspace(env()), CommandContext.datasetLocator(env(), err), monitor)
                        .quantizeOn(Path.of(from), params, onnxOutput, data);
            }
            print(json ? onnx.json() + System.lineSeparator() : onnx.format());
            if (onnx.withinBudget()) return ExitCodes.OK;
            if (json) err.println(onnx.budgetLine()); // the report says it otherwise
            return ExitCodes.FAILURE;
        }
        if (inputs != null) {
            throw new BadInputException("--inputs is for ONNX files; a Squeeze model is calibrated and measured on its "
                    + "dataset's training and validation splits");
        }
        if (dataset != null) {
            throw new BadInputException("--dataset is for ONNX files; a Squeeze model is calibrated and measured on the "
                    + "dataset it was trained on");
        }
        if (onnxOutput != null) {
            throw new BadInputException("--onnx-output is for ONNX files; a Squeeze model's int8 file is the run folder's "
                    + "model.zip ('squeeze export' writes it as ONNX)");
        }
        QuantizeOutcome outcome;
        try (var monitor = new ConsoleTrainingMonitor(err, CommandContext.progressBarStream(env()))) {
            outcome = new QuantizeService(stage.workspace(env()), CommandContext.datasetLocator(env(), err), monitor)
                    .quantize(from, params, stage.dataDir());
        }
        print(json ? outcome.json() + System.lineSeparator() : outcome.format());
        return outcome.budgetMet() ? ExitCodes.OK : ExitCodes.FAILURE;
    }
}
