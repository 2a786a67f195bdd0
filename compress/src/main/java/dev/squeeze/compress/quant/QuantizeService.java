package dev.squeeze.compress.quant;

import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.runs.ModelSource;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunResult;
import dev.squeeze.compress.network.ActivationQuant;
import dev.squeeze.compress.network.Dl4jLayers;
import dev.squeeze.compress.network.FloatLinear;
import dev.squeeze.compress.network.Step;
import dev.squeeze.compress.network.StepNetwork;
import dev.squeeze.compress.stage.Stage;
import dev.squeeze.compress.stage.StageRun;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.compress.train.StageEnvironment;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.data.TrainValSplit;
import dev.squeeze.models.zoo.Network;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code squeeze quantize}: post-training static int8 quantization of a trained model, calibrated on training
 * examples, chosen on the validation split (never the test set), with each layer's sensitivity, and
 * quantization-aware training when asked for or when the accuracy budget needs it. With {@code --bits 4} the dense
 * layers get block-wise int4 weights and float activations instead ({@link Int4Linear}), convolutions and
 * {@code --keep-8bit} layers stay int8, and the sensitivity list measures each dense layer at 4 bits. The test accuracy
 * reported is that of the written file, loaded back.
 */
public final class QuantizeService {
    public static final String STAGE = "quantize";
    /** Calibration examples are drawn from the training split with this seed. */
    static final long SAMPLE_SEED = 20_240_601L;

    private final StageEnvironment env;

    public QuantizeService(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor) {
        this.env = new StageEnvironment(workspace, locator, monitor);
    }

    /**
     * @param from    a run id (or prefix) of any stage that wrote a float model, or a model file
     * @param dataDir where the dataset's files are, or null to locate them
     */
    public QuantizeOutcome quantize(String from, QuantParams requested, Path dataDir) {
        requested.budgetPoints(); // a bound on an ONNX file's figure is refused before any work
        requested.checkBits();
        RunPaths.requireWritable(env.workspace().runsRoot());
        ModelSource source = ModelSource.resolve(from, env.workspace(), "quantize");
        if (source.int8()) {
            throw new BadInputException(source.file() + " is already an int8 model (written by 'squeeze quantize'); "
                    + "quantize the float model it came from instead");
        }
        if (QuantParams.DYNAMIC.equals(requested.mode())) {
            throw new BadInputException("--mode dynamic is for ONNX files; a Squeeze model is quantized statically (export "
                    + "it with 'squeeze export' to quantize the ONNX file dynamically)");
        }
        ModelFile.Loaded loaded = ModelFile.load(source.file(), false);
        if (loaded.network().isGraph() && requested.qatEpochs() > 0) {
            throw new BadInputException("--qat-epochs: quantization-aware training of a graph (" + loaded.info().model()
                    + ") is not built; quantize it post-training (without --qat-epochs)");
        }
        // Static and auto do the same to a Squeeze model: one run folder for both.
        QuantParams params = QuantParams.SETTINGS.with(requested.withSource(source.identity()), "mode", QuantParams.AUTO)
                .withCurrentWeightScales();
        StepNetwork floatNetwork = Dl4jLayers.toFloatNetwork(loaded.network(), loaded.info().inputShape());
        checkKeepFloat(params.layerIndices(), floatNetwork);
        if (params.fourBit()) checkKeep8bit(params, floatNetwork);
        return env.runner().run(new Quantize(source, loaded, floatNetwork, dataDir), params).outcome();
    }

    /** The quantize stage, for one loaded float model. */
    private final class Quantize implements Stage<QuantParams, QuantizeOutcome> {
        private final ModelSource source;
        private final ModelFile.Loaded loaded;
        private final StepNetwork floatNetwork;
        private final Path dataDir;

        Quantize(ModelSource source, ModelFile.Loaded loaded, StepNetwork floatNetwork, Path dataDir) {
            this.source = source;
            this.loaded = loaded;
            this.floatNetwork = floatNetwork;
            this.dataDir = dataDir;
        }

        @Override
        public Definition<QuantParams, QuantizeOutcome> definition() {
            return new Definition<>(STAGE, QuantParams.DEFAULTS, QuantizeOutcome.class,
                    "interrupted; the same command starts again");
        }

        @Override
        public NewRun row(QuantParams params, ConfigHash hash) {
            ModelInfo info = loaded.info();
            return NewRun.of(STAGE, info.model(), info.dataset(), hash)
                    .withParent(source.run() == null ? null : source.run().id())
                    .withNotes((params.fourBit() ? "int4 blocks of " + params.blockSize() + (params.keep8bit().isEmpty()
                            ? "" : ", 8-bit " + params.keep8bit()) : "int8 " + params.granularity().label())
                            + (params.weightSharing() > 0 ? ", " + params.weightSharing() + " shared values a layer" : "")
                            + (params.convActivations() == ConvActivations.FLOAT ? ", float convolutions" : "")
                            + ", calibration " + params.calibration());
        }

        @Override
        public String reusedMessage(QuantParams params, RunRecord run) {
            return "already quantized with these settings as run " + run.id();
        }

        @Override
        public Optional<QuantizeOutcome> adopt(RunRecord finished, RunPaths paths) {
            if (!Files.isRegularFile(paths.model()) || finished.details() == null) return Optional.empty();
            try {
                return Optional.of(Json.read(finished.details(), QuantizeOutcome.class));
            } catch (IOException e) {
                return Optional.empty(); // details this version cannot read: quantize again
            }
        }

        @Override
        public RecordedRun.Finished<QuantizeOutcome> run(StageRun<QuantParams> run) {
            RunPaths paths = run.paths();
            QuantizeOutcome outcome = QuantizeService.this.run(run.row(), run.params(), source, loaded, floatNetwork,
                    paths, dataDir);
            return new RecordedRun.Finished<>(RunResult.of(null, outcome.kept().valAcc(), outcome.int8TestAcc())
                    .withSizes(outcome.params(), nonzero(paths.model()), outcome.int8FileBytes())
                    .withDetails(Json.writeCompact(outcome)), outcome);
        }
    }

    private QuantizeOutcome run(RunRecord run, QuantParams params, ModelSource source, ModelFile.Loaded loaded,
                                StepNetwork floatNetwork, RunPaths paths, Path dataDir) {
        TrainingMonitor monitor = env.monitor();
        ModelInfo info = loaded.info();
        Splits data = splits(info, dataDir);
        Network net = loaded.network();
        double floatVal = Evaluator.evaluate(net, data.validation(), info.classNames()).accuracy();
        double floatTest = Evaluator.evaluate(net, data.test(), info.classNames()).accuracy();
        LabeledData calibrationSet = sample(data.train(), params.samples());
        monitor.message(String.format(Locale.ROOT, "run %s: calibrating on %d training examples; float validation "
                + "accuracy %.2f%%", run.id(), calibrationSet.size(), 100 * floatVal));
        CalibrationStatistics stats = CalibrationStatistics.collect(floatNetwork, calibrationSet);
        NetworkQuantizer.Scheme scheme = scheme(params);

        List<QuantizeOutcome.Trial> trials = new ArrayList<>();
        StepNetwork best = null;
        QuantizeOutcome.Trial bestTrial = null;
        List<ActivationQuant> bestPoints = null;
        for (Calibration method : params.methods()) {
            List<ActivationQuant> points = stats.quantizations(method, params.percentile());
            StepNetwork q = WeightSharing.apply(NetworkQuantizer.quantize(floatNetwork, points, scheme),
                    params.weightSharing());
            double val = Evaluator.evaluate(q, data.validation(), info.classNames()).accuracy();
            var trial = new QuantizeOutcome.Trial(method.label(), params.granularity().label(), 0, val, floatVal - val);
            monitor.message(String.format(Locale.ROOT, "  %-10s %s validation accuracy %.2f%% (drop %.2f points)",
                    method.label(), params.fourBit() ? "int4" : "int8", 100 * val, 100 * (floatVal - val)));
            trials.add(trial);
            if (bestTrial == null || val > bestTrial.valAcc()) {
                best = q;
                bestTrial = trial;
                bestPoints = points;
            }
        }

        List<QuantizeOutcome.Sensitivity> sensitivity = sensitivity(floatNetwork, bestPoints, params, data, info, floatVal);

        Double budget = params.budgetPoints();
        boolean overBudget = budget != null && 100 * bestTrial.drop() > budget;
        int qatEpochs = params.qatEpochs() > 0 ? params.qatEpochs() : overBudget ? QuantParams.BUDGET_QAT_EPOCHS : 0;
        if (qatEpochs > 0 && net.isGraph()) {
            monitor.message(String.format(Locale.ROOT, "the best calibration loses %.2f points, over the budget of %s; "
                    + "quantization-aware training, the next try, is not built for graphs", 100 * bestTrial.drop(), budget));
            qatEpochs = 0;
        }
        if (qatEpochs > 0) {
            if (overBudget) {
                monitor.message(String.format(Locale.ROOT, "the best calibration loses %.2f points, over the budget of "
                        + "%s: quantization-aware training for %d epochs", 100 * bestTrial.drop(), budget, qatEpochs));
            }
            Calibration method = Calibration.parse(bestTrial.calibration());
            StepNetwork qat = WeightSharing.apply(new QuantizationAwareTraining(monitor).fineTune(net, info, floatNetwork,
                    bestPoints, scheme, params.weightSharing(), qatEpochs, data, new RunPaths(paths.dir().resolve("qat"))),
                    params.weightSharing());
            double val = Evaluator.evaluate(qat, data.validation(), info.classNames()).accuracy();
            var trial = new QuantizeOutcome.Trial(method.label(), params.granularity().label(), qatEpochs, val, floatVal - val);
            monitor.message(String.format(Locale.ROOT, "  QAT       %s validation accuracy %.2f%% (drop %.2f points)",
                    params.fourBit() ? "int4" : "int8", 100 * val, 100 * (floatVal - val)));
            trials.add(trial);
            if (val > bestTrial.valAcc() || params.qatEpochs() > 0) {
                best = qat;
                bestTrial = trial;
            }
        }

        ModelInfo int8Info = new ModelInfo(info.model(), info.dataset(), info.table(), info.inputShape(), info.classNames(),
                info.normalization(), run.configHash(), run.id(), info.epoch(), bestTrial.valAcc());
        QuantizedModelFile.save(paths.model(), best, int8Info);
        // What the file does, not what the object in memory did.
        QuantizedModelFile.Loaded written = QuantizedModelFile.load(paths.model());
        double int8Test = Evaluator.evaluate(written.network(), data.test(), info.classNames()).accuracy();
        boolean met = budget == null || 100 * bestTrial.drop() <= budget + 1e-9;
        return new QuantizeOutcome(run.id(), source.run() == null ? null : source.run().id(),
                source.file().toAbsolutePath().toString(), paths.model().toString(), floatVal, floatTest,
                size(source.file()), trials, sensitivity, bestTrial, int8Test, size(paths.model()),
                best.parameterCount(), params.layerIndices(), budget, met, params.bits(),
                params.fourBit() ? params.blockSize() : null, params.fourBit() ? eightBitLayers(best) : null,
                params.convActivations() == ConvActivations.FLOAT);
    }

    /** Validation accuracy with one layer at a time in int8 and every other layer float, worst first. */
    private List<QuantizeOutcome.Sensitivity> sensitivity(StepNetwork floatNetwork, List<ActivationQuant> points,
                                                          QuantParams params, Splits data, ModelInfo info, double floatVal) {
        List<Integer> layers = floatNetwork.linearSteps().stream().map(StepNetwork::layerOf).toList();
        // At 4 bits every dense layer is measured at 4 bits, those kept at 8 too: the list says which to keep.
        NetworkQuantizer.FourBit fourBit = params.fourBit() ? new NetworkQuantizer.FourBit(params.blockSize(), Set.of()) : null;
        NetworkQuantizer.Scheme scheme = new NetworkQuantizer.Scheme(params.granularity(), Set.of(), fourBit,
                params.convActivations());
        List<QuantizeOutcome.Sensitivity> out = new ArrayList<>();
        for (Step step : floatNetwork.linearSteps()) {
            int layer = StepNetwork.layerOf(step);
            Set<Integer> others = layers.stream().filter(l -> l != layer).collect(Collectors.toSet());
            StepNetwork q = NetworkQuantizer.quantize(floatNetwork, points, scheme.keeping(others));
            double val = Evaluator.evaluate(q, data.validation(), info.classNames()).accuracy();
            boolean fourBitLayer = fourBit != null && fourBit.applies((FloatLinear) step);
            out.add(new QuantizeOutcome.Sensitivity(layer, StepNetwork.labelOf(step), val, floatVal - val,
                    fourBitLayer ? QuantParams.FOUR_BITS : QuantParams.EIGHT_BITS));
        }
        out.sort((a, b) -> Double.compare(b.drop(), a.drop()));
        return out;
    }

    /** The train/validation/test splits of the model's dataset, normalised as the model file says. */
    record Splits(LabeledData train, LabeledData validation, LabeledData test) {
    }

    private Splits splits(ModelInfo info, Path dataDir) {
        Dataset dataset = info.openDataset(null, dataDir, env.locator(), env.monitor()::message);
        TrainValSplit split = TrainingData.carve(dataset, TrainParams.DEFAULT_VALIDATION_FRACTION);
        if (split.train().featureSize() != info.normalization().featureSize()) {
            throw new BadInputException("the model takes " + info.normalization().featureSize() + " inputs but "
                    + info.dataset() + " has " + split.train().featureSize());
        }
        return new Splits(info.normalization().apply(split.train()), info.normalization().apply(split.validation()),
                info.normalization().apply(dataset.test()));
    }

    /**
     * {@code n} training examples drawn without replacement with a fixed seed (all of them when fewer): what a Squeeze
     * model, or an ONNX file given {@code --dataset}, is calibrated on.
     */
    public static LabeledData sample(LabeledData train, int n) {
        if (n >= train.size()) return train;
        return train.select(java.util.Arrays.copyOf(TrainValSplit.permutation(train.size(), SAMPLE_SEED), n));
    }

    private static void checkKeepFloat(List<Integer> keepFloat, StepNetwork floatNetwork) {
        List<Step> linear = floatNetwork.linearSteps();
        Set<Integer> layers = linear.stream().map(StepNetwork::layerOf).collect(Collectors.toSet());
        for (int k : keepFloat) {
            if (!layers.contains(k)) {
                throw new BadInputException("--keep-float " + k + " is not a dense or convolutional layer of this model; "
                        + "its layers are: " + linear.stream().map(StepNetwork::labelOf).collect(Collectors.joining(", ")));
            }
        }
        if (keepFloat.size() == layers.size()) {
            throw new BadInputException("--keep-float names every layer: nothing would be quantized");
        }
    }

    /** How the quantizer quantizes each layer, as the settings say. */
    static NetworkQuantizer.Scheme scheme(QuantParams params) {
        return new NetworkQuantizer.Scheme(params.granularity(), new HashSet<>(params.layerIndices()), fourBit(params),
                params.convActivations());
    }

    /** The 4-bit settings the quantizer takes, or null for int8 throughout. */
    static NetworkQuantizer.FourBit fourBit(QuantParams params) {
        return params.fourBit() ? new NetworkQuantizer.FourBit(params.blockSize(), new HashSet<>(params.keep8bit())) : null;
    }

    /** The layers of {@code network} with int8 weights (a 4-bit model's convolutions and --keep-8bit layers). */
    private static List<Integer> eightBitLayers(StepNetwork network) {
        return network.linearSteps().stream().filter(s -> s instanceof Int8Linear || s instanceof WeightOnlyInt8Linear)
                .map(StepNetwork::layerOf).toList();
    }

    /**
     * --keep-8bit names dense layers of the model, none kept float too, and leaves at least one dense layer at 4 bits.
     */
    private static void checkKeep8bit(QuantParams params, StepNetwork floatNetwork) {
        List<Step> linear = floatNetwork.linearSteps();
        String layers = linear.stream().map(StepNetwork::labelOf).collect(Collectors.joining(", "));
        Set<Integer> keepFloat = new HashSet<>(params.layerIndices());
        for (int k : params.keep8bit()) {
            Step step = linear.stream().filter(s -> StepNetwork.layerOf(s) == k).findFirst().orElseThrow(() ->
                    new BadInputException("--keep-8bit " + k + " is not a dense layer of this model; its layers are: "
                            + layers));
            if (!(((FloatLinear) step).geometry() instanceof dev.squeeze.compress.network.Geometry.Dense)) {
                throw new BadInputException("--keep-8bit " + k + ": " + StepNetwork.labelOf(step) + " is a convolution, "
                        + "which stays 8-bit at --bits 4 anyway (ONNX Runtime has no 4-bit convolution); name dense layers");
            }
            if (keepFloat.contains(k)) {
                throw new BadInputException("--keep-8bit " + k + " and --keep-float " + k + ": a layer is kept float or "
                        + "at 8 bits, not both; drop it from one of them");
            }
        }
        NetworkQuantizer.FourBit fourBit = fourBit(params);
        boolean any = linear.stream().anyMatch(s -> !keepFloat.contains(StepNetwork.layerOf(s))
                && fourBit.applies((FloatLinear) s));
        if (!any) {
            throw new BadInputException("--bits 4 with these --keep-8bit/--keep-float layers leaves no dense layer at 4 "
                    + "bits (convolutions stay 8-bit); quantize with --bits 8, or keep fewer layers at 8 bits");
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the size of " + file, e);
        }
    }

    private static long nonzero(Path int8File) {
        return QuantizedModelFile.load(int8File).network().nonzeroParameterCount();
    }
}
