package dev.squeeze.compress.onnx.quantize;

import ai.onnx.proto.OnnxMl;
import dev.squeeze.compress.artifacts.CodeVersion;
import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunResult;
import dev.squeeze.compress.quant.FigureBudget;
import dev.squeeze.compress.onnx.inputs.DatasetInputs;
import dev.squeeze.compress.onnx.inputs.InputBatch;
import dev.squeeze.compress.onnx.inputs.InputFiles;
import dev.squeeze.compress.onnx.inputs.InputSplit;
import dev.squeeze.compress.onnx.inputs.ModelSignature;
import dev.squeeze.compress.onnx.inputs.OutputFigures;
import dev.squeeze.compress.onnx.inputs.QuantizationFigures;
import dev.squeeze.compress.onnx.inputs.TensorSignature;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.quant.QuantizeService;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.stage.Stage;
import dev.squeeze.compress.stage.StageResult;
import dev.squeeze.compress.stage.StageRun;
import dev.squeeze.compress.stage.StageRunner;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.core.AtomicFiles;
import dev.squeeze.compress.onnx.SparseInitializers;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.ExportProvenance;
import dev.squeeze.core.settings.SettingSpec;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.Datasets;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code squeeze quantize --from model.onnx}: int8 quantization of any ONNX file, as a {@code quantize} stage (run
 * folder named by the settings and the file's SHA-256, outcome file, ledger row). Dynamic mode: weights int8,
 * activations quantized at run time, no data needed ({@link DynamicQuantizer}). Static mode: QDQ with activation
 * ranges calibrated on the calibration part of the user's inputs ({@link StaticQuantizer}, {@link StaticCalibration}),
 * what it cost measured on the held-out part. Auto is static when inputs are given, else dynamic. The graph is loaded
 * in ONNX Runtime and must run integer kernels after its optimizations before it is written; the file appears whole or
 * not at all.
 */
public final class OnnxQuantizeService {
    /** The integer operators looked for in ONNX Runtime's optimized graph. */
    static final Set<String> INTEGER_KERNELS = Set.of("MatMulInteger", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
            "ConvInteger", "QGemm", "QLinearMatMul", "QLinearConv");
    /** The quantized file's name in its run folder. */
    public static final String MODEL_FILE = "model.onnx";
    /** Static mode: the share of the inputs' examples held out to measure on, never calibrated on. */
    static final double HELD_OUT = 0.25;
    /** Static mode: the seed of the calibration / held-out split (part of the run's identity). */
    static final long SPLIT_SEED = 1;

    private final Workspace workspace;
    private final DatasetLocator locator;
    private final TrainingMonitor monitor;

    /** A service that locates datasets ({@code --dataset}) as {@link DatasetLocator#fromEnvironment()} does. */
    public OnnxQuantizeService(Workspace workspace, TrainingMonitor monitor) {
        this(workspace, DatasetLocator.fromEnvironment(), monitor);
    }

    public OnnxQuantizeService(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor) {
        this.workspace = workspace;
        this.locator = locator;
        this.monitor = monitor;
    }

    /** {@link #quantizeOn} the user's inputs, or on nothing when {@code inputs} is null. */
    public OnnxQuantizeOutcome quantize(Path file, QuantParams requested, Path output, Path inputs) {
        return quantizeOn(file, requested, output, OnnxData.inputs(inputs));
    }

    /**
     * Quantizes {@code file} into its run folder (a finished run with the same file and settings is reused), then
     * copies it to {@code output} ({@code --onnx-output}).
     *
     * @param output the .onnx file to write, or null to leave it in the run folder only
     * @param data   what to measure the cost of quantization on: the model's inputs ({@code .npz}, {@code .npy}, or a
     *               folder of Open Inference Protocol JSON request bodies), a labelled dataset whose raw features the
     *               model takes (figures on its test split, with accuracy), or {@link OnnxData#NONE}; static mode calibrates on part of
     *               them (a dataset's training split) and measures on the rest (its test split)
     * @throws BadInputException for a file that is not ONNX or that ONNX Runtime cannot load, an already-quantized
     *                           model, one with nothing to quantize, inputs or a dataset that do not fit the model, or
     *                           static mode without data, or settings that do not apply to ONNX files
     */
    public OnnxQuantizeOutcome quantizeOn(Path file, QuantParams requested, Path output, OnnxData data) {
        QuantParams.SETTINGS.check(requested, SettingSpec::flag);
        RunPaths.requireWritable(workspace.runsRoot());
        boolean statik = isStatic(requested.mode(), data.given());
        if (statik && !data.given()) {
            throw new BadInputException("--mode static calibrates activation ranges on your inputs; give calibration "
                    + "inputs with --inputs FILE|DIR (.npz, .npy, or a folder of request bodies) or --dataset NAME|FILE.csv, or use --mode dynamic, "
                    + "which needs none");
        }
        if (requested.qatEpochs() != 0) {
            throw new BadInputException("--qat-epochs trains a Squeeze model; an ONNX file is quantized without training");
        }
        requested.checkBits();
        if (requested.fourBit()) {
            throw new BadInputException("--bits 4 is built for Squeeze models (quantize their run or model file); an ONNX "
                    + "file is quantized to int8: leave --bits out");
        }
        if (requested.weightSharing() != 0) {
            throw new BadInputException("--weight-sharing is built for Squeeze models (quantize their run or model file); "
                    + "leave it out for an ONNX file");
        }
        if (requested.convActivations() != QuantParams.DEFAULTS.convActivations()) {
            throw new BadInputException("--conv-activations is built for Squeeze models (quantize their run or model "
                    + "file); for an ONNX file, --keep-float NODE keeps a convolution float");
        }
        FigureBudget budget = requested.figureBudget();
        if (budget != null && !data.given()) {
            throw new BadInputException("--accuracy-budget " + budget.text() + " is measured on your inputs; give them "
                    + "with --inputs FILE|DIR (.npz, .npy, or a folder of request bodies), or --dataset NAME|FILE.csv "
                    + "for a model that takes a dataset's raw features");
        }
        Path target = output == null ? null : output.toAbsolutePath().normalize();
        if (target != null) {
            if (Files.isDirectory(target)) {
                throw new BadInputException("--onnx-output " + output + " is a folder; give the .onnx file to write");
            }
            RunPaths.requireWritable(target.getParent());
        }
        OnnxModelFile source = OnnxModelFile.read(file);
        // The inputs are read and checked against the model before any work.
        ModelSignature signature = data.given() ? ModelSignature.of(source.model()) : null;
        Evaluation evaluation = data.inputs() != null
                ? (statik ? Evaluation.split(data.inputs(), signature, requested.samples())
                        : Evaluation.read(data.inputs(), signature))
                : data.dataset() != null ? Evaluation.of(data, signature, requested.samples(), locator, monitor) : null;
        if (budget != null) checkBudget(budget, signature, evaluation.labelled());
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(source.model(), new HashSet<>(requested.keepFloatNames()),
                statik ? StaticQuantizer.PAYS : DynamicQuantizer.PAYS);
        // Only what changes the written file names the run: the file's content, the mode, the weight scales, the
        // nodes kept float; static mode's calibration settings and split. Calibration does not apply to dynamic mode.
        Map<String, Object> identity = new LinkedHashMap<>(Map.of("source", "sha256:" + source.sha256(),
                "mode", statik ? QuantParams.STATIC : QuantParams.DYNAMIC, "granularity", requested.granularity(),
                "keep-float", requested.keepFloat()));
        if (statik) {
            identity.put("calibration", requested.calibration());
            identity.put("percentile", requested.percentile());
            identity.put("samples", requested.samples());
            identity.put("splitSeed", SPLIT_SEED);
        }
        if (evaluation != null) identity.put("evaluation", evaluation.identity());
        // The budget decides which nodes stay float: another budget, another file.
        if (budget != null) identity.put("accuracy-budget", budget.text());
        QuantParams params = QuantParams.SETTINGS.build(identity);
        StageResult<OnnxQuantizeOutcome> done = new StageRunner(workspace, monitor::message)
                .run(new Quantize(source, plan, evaluation), params);
        if (target == null) return done.outcome();
        AtomicFiles.copy(done.paths().dir().resolve(MODEL_FILE), target);
        return done.outcome().withOutput(target.toString());
    }

    /** Whether {@code mode} (auto, dynamic or static) means static for an ONNX file, with data to calibrate on or none. */
    static boolean isStatic(String mode, boolean dataGiven) {
        return QuantParams.STATIC.equals(mode) || QuantParams.AUTO.equals(mode) && dataGiven;
    }

    /** The stage: the quantized graph, checked in ONNX Runtime, written into its run folder. */
    private final class Quantize implements Stage<QuantParams, OnnxQuantizeOutcome> {
        private final OnnxModelFile source;
        private final DynamicQuantizer.Plan plan;
        private final Evaluation evaluation;

        Quantize(OnnxModelFile source, DynamicQuantizer.Plan plan, Evaluation evaluation) {
            this.source = source;
            this.plan = plan;
            this.evaluation = evaluation;
        }

        @Override
        public Definition<QuantParams, OnnxQuantizeOutcome> definition() {
            return new Definition<>(QuantizeService.STAGE, QuantParams.DEFAULTS, OnnxQuantizeOutcome.class,
                    "interrupted; nothing was written");
        }

        @Override
        public NewRun row(QuantParams params, ConfigHash hash) {
            return NewRun.of(QuantizeService.STAGE, source.file().getFileName().toString(),
                            evaluation == null ? null : evaluation.dataset(), hash)
                    .withNotes("int8 " + params.mode() + " ONNX, " + plan.quantizedCount() + " of " + plan.candidates().size()
                            + " candidates, from " + source.file().toAbsolutePath().normalize());
        }

        @Override
        public String reusedMessage(QuantParams params, RunRecord run) {
            return "already quantized with these settings as run " + run.id();
        }

        @Override
        public RecordedRun.Finished<OnnxQuantizeOutcome> run(StageRun<QuantParams> run) {
            OnnxQuantizeOutcome outcome = write(run, source, plan, evaluation);
            // A dataset's test split is a test set: the int8 model's accuracy on it is the row's test accuracy.
            OutputFigures accuracy = outcome.dataset() == null ? null : outcome.figures().accuracy();
            return new RecordedRun.Finished<>(RunResult.of(null, null,
                            accuracy == null ? null : accuracy.quantizedAccuracyPct() / 100)
                    .withSizes(outcome.params(), null, outcome.int8FileBytes())
                    .withDetails(Json.writeCompact(outcome)), outcome);
        }
    }

    private OnnxQuantizeOutcome write(StageRun<QuantParams> run, OnnxModelFile source, DynamicQuantizer.Plan planned,
                                      Evaluation evaluation) {
        QuantParams params = run.params();
        boolean statik = QuantParams.STATIC.equals(params.mode());
        monitor.message("run " + run.row().id() + ": quantizing " + planned.quantizedCount() + " of "
                + planned.candidates().size() + " MatMul/Gemm/Conv/Gather nodes of " + source.file() + " (" + params.mode() + ")");
        FigureBudget budget = params.figureBudget();
        OnnxCalibration calibration = null;
        Function<DynamicQuantizer.Plan, OnnxMl.ModelProto> writer;
        if (statik) {
            // Ranges for every tensor the full plan quantizes; a variant with fewer int8 nodes uses a subset of them.
            StaticCalibration.Calibrated calibrated = StaticCalibration.run(source.model(), evaluation.signature(),
                    planned, params.granularity(), params.methods(), params.calibration(), params.percentile(),
                    evaluation.calibration(), budget, monitor::message);
            calibration = calibrated.report();
            monitor.message(calibration.line());
            writer = p -> StaticQuantizer.quantize(source.model(), p, params.granularity(), calibrated.ranges());
        } else {
            writer = p -> DynamicQuantizer.quantize(source.model(), p, params.granularity()).model();
        }
        BudgetSearch.Found found = null;
        if (evaluation != null) {
            monitor.message("measuring float against int8 on " + evaluation.describe());
            try (QuantizationFigures.Reference reference = QuantizationFigures.Reference.of(evaluation.signature(),
                    source.model().toByteArray(), evaluation.heldOut(), 1)) {
                found = new BudgetSearch(writer, reference, budget, monitor::message).run(planned);
            }
        }
        // With a budget, the plan it chose: some nodes left float, "over budget".
        DynamicQuantizer.Plan plan = found == null ? planned : found.chosen();
        QuantizationFigures figures = found == null ? null : found.figures();
        // A source with sparse initializers (a pruned model's export) gets its weights stored sparse again.
        SparseInitializers.Result stored = SparseInitializers.apply(writer.apply(plan), source.storage());
        stored.tensors().forEach(t -> monitor.message(String.format(Locale.ROOT,
                "sparse weight %s: %.1f%% non-zero, %,d -> %,d bytes, %s", t.name(), 100 * t.density(), t.denseBytes(),
                t.sparseBytes(), t.storageNote())));
        OnnxMl.ModelProto quantized = stored.model();
        Path target = run.paths().dir().resolve(MODEL_FILE);
        List<String> kernels = new ArrayList<>(new TreeSet<>(OnnxModelFile.optimizedOperators(
                quantized.toByteArray(), run.paths().dir())));
        kernels.retainAll(INTEGER_KERNELS);
        // An int8 Gather needs no integer kernel (its rows become float after the lookup); any other int8 node does.
        if (kernels.isEmpty() && plan.candidates().stream().anyMatch(c -> c.quantized() && !c.op().equals("Gather"))) {
            throw new IllegalStateException("ONNX Runtime runs no integer kernel for the quantized graph of "
                    + source.file() + "; not written");
        }
        OnnxMl.ModelProto.Builder m = quantized.toBuilder().clearMetadataProps();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (OnnxMl.StringStringEntryProto e : source.model().getMetadataPropsList()) metadata.put(e.getKey(), e.getValue());
        String before = metadata.remove(ExportProvenance.METADATA_KEY);
        if (before != null) metadata.put(ExportProvenance.METADATA_KEY + "_source", before);
        metadata.put(ExportProvenance.METADATA_KEY, provenance(run, source, plan, params, kernels, figures, calibration,
                evaluation));
        metadata.forEach((k, v) -> m.addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        byte[] bytes = m.build().toByteArray();
        AtomicFiles.write(target, tmp -> Files.write(tmp, bytes));
        long int8Weights = plan.candidates().stream().filter(OnnxCandidate::quantized)
                .map(OnnxCandidate::weight).distinct().mapToLong(w -> weightsOf(plan, w)).sum();
        return new OnnxQuantizeOutcome(run.row().id(), source.file().toAbsolutePath().normalize().toString(),
                source.sha256(), target.toString(), null, params.mode(), params.granularity().label(),
                plan.opsetBefore(), plan.opsetAfter(), source.bytes(), bytes.length, source.parameterCount(), int8Weights,
                plan.candidates(), kernels, figures, found == null ? List.of() : found.sensitivity(),
                budget == null ? null : budget.text(), found == null ? null : found.met(), calibration,
                evaluation == null ? null : evaluation.dataset());
    }

    /**
     * Refuses, before any work, a budget on an output the model does not have, or top-1 on one that is not
     * {@code [N, classes]}.
     */
    private static void checkBudget(FigureBudget budget, ModelSignature signature, boolean labelled) {
        List<TensorSignature> outputs = signature.outputs();
        TensorSignature on = budget.output() == null ? (outputs.isEmpty() ? null : outputs.get(0))
                : signature.output(budget.output());
        if (on == null) {
            throw new BadInputException("--accuracy-budget " + budget.text() + ": the model has no tensor output "
                    + (budget.output() == null ? "" : "'" + budget.output() + "'") + "; its outputs are "
                    + outputs.stream().map(TensorSignature::toString).collect(Collectors.joining(", ")));
        }
        boolean scores = budget.figure() == FigureBudget.Figure.TOP1_DROP || budget.figure() == FigureBudget.Figure.ACCURACY_DROP;
        if (scores && (on.shape() == null || on.shape().length != 2)) {
            throw new BadInputException("--accuracy-budget " + budget.text() + ": output " + on + " is not [N, classes] "
                    + "scores, so it has no top-1; bound cosine, cosine-worst, rel-l2 or max-abs instead");
        }
        if (budget.figure() == FigureBudget.Figure.ACCURACY_DROP && !labelled) {
            throw new BadInputException("--accuracy-budget " + budget.text() + " needs labels, and the inputs have none; "
                    + "give --dataset NAME|FILE.csv, or a 'labels' array in the --inputs .npz, or bound top1-drop "
                    + "(agreement with the float model's top-1)");
        }
    }

    private static long weightsOf(DynamicQuantizer.Plan plan, String weight) {
        return plan.candidates().stream().filter(c -> weight.equals(c.weight())).findFirst().orElseThrow().weights();
    }

    /**
     * The provenance stored under {@value ExportProvenance#METADATA_KEY}: the fields export writes (read back by
     * {@link ExportProvenance#read}), plus the source file's SHA-256, the settings and the nodes quantized.
     */
    private static String provenance(StageRun<QuantParams> run, OnnxModelFile source, DynamicQuantizer.Plan plan,
                                     QuantParams params, List<String> kernels, QuantizationFigures figures,
                                     OnnxCalibration calibration, Evaluation evaluation) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("export_run", run.row().id());
        p.put("stage", QuantizeService.STAGE);
        p.put("mode", "int8 " + params.mode());
        p.put("source_file", source.file().getFileName().toString());
        p.put("source_sha256", source.sha256());
        p.put("config_hash", run.hash().value());
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("mode", params.mode());
        settings.put("granularity", params.granularity().label());
        settings.put("keep_float", params.keepFloatNames());
        if (params.accuracyBudget() != null) settings.put("accuracy_budget", String.valueOf(params.accuracyBudget()));
        if (calibration != null) {
            settings.put("calibration", params.calibration());
            settings.put("percentile", params.percentile());
            settings.put("samples", params.samples());
            settings.put("split_seed", params.splitSeed());
            settings.put("held_out", HELD_OUT);
        }
        p.put("settings", settings);
        if (calibration != null) p.put("calibration", calibration);
        p.put("quantized_nodes", plan.candidates().stream().filter(OnnxCandidate::quantized).map(OnnxCandidate::node).toList());
        p.put("integer_kernels", kernels);
        if (figures != null) p.put("figures", figures);
        OutputFigures accuracy = figures == null || evaluation.dataset() == null ? null : figures.accuracy();
        if (accuracy != null) {
            // As export writes it, so that bench reads the int8 file's accuracy and its dataset alike.
            p.put("accuracy_at_export", new ExportProvenance.AccuracyAtExport(accuracy.quantizedAccuracyPct() / 100,
                    Math.toIntExact(accuracy.examples()), evaluation.given(), "onnxruntime "
                    + OnnxModelFile.onnxRuntimeVersion() + " (CPU, optimization level ALL)"));
        }
        String commit = CodeVersion.commit();
        p.put("code_commit", commit == null ? "unknown" : commit);
        Map<String, Object> libraries = new LinkedHashMap<>();
        libraries.put("squeeze", commit == null ? "dev" : commit);
        libraries.put("onnxruntime", OnnxModelFile.onnxRuntimeVersion());
        libraries.put("onnx_opset", String.valueOf(plan.opsetAfter()));
        p.put("libraries", libraries);
        p.put("exported_at", Instant.now().toString());
        return Json.writeCompact(p);
    }

    /**
     * What measures the cost of quantization: the user's inputs, all of them held out (dynamic mode calibrates on
     * none), or a dataset's test split, its training split kept apart for calibration.
     *
     * @param identity    what names the data in the run's hash: {@code sha256:HEX} of the inputs (file bytes, or a
     *                    folder's file names and bytes in name order), or {@code dataset:NAME sha256:HEX} of the
     *                    dataset's content
     * @param signature   the model's inputs and outputs, read once from its graph
     * @param calibration examples to calibrate on, none of them in {@code heldOut}
     * @param heldOut     examples to measure on
     * @param dataset     the dataset's name, or null for the user's inputs
     * @param given       the dataset as the user gave it ({@code --dataset}), or null
     * @param what        where the examples came from, for messages
     */
    private record Evaluation(String identity, ModelSignature signature, List<InputBatch> calibration,
                              List<InputBatch> heldOut, long examples, String dataset, String given, String what) {
        static Evaluation read(Path path, ModelSignature signature) {
            List<InputBatch> batches = InputFiles.read(path, signature);
            InputSplit split = InputSplit.evaluationOnly(signature, batches, InputSplit.BATCH_ROWS);
            long examples = split.evaluation().stream().mapToLong(InputBatch::rows).sum();
            return new Evaluation("sha256:" + InputFiles.sha256(path), signature, split.calibration(), split.evaluation(),
                    examples, null, null, path.toString());
        }

        /**
         * {@value #HELD_OUT} of the examples held out (seed {@value #SPLIT_SEED}), the first {@code samples} of the rest
         * to calibrate on.
         *
         * @throws BadInputException when there are fewer than two examples
         */
        static Evaluation split(Path path, ModelSignature signature, int samples) {
            List<InputBatch> batches = InputFiles.read(path, signature);
            InputSplit split = InputSplit.of(signature, batches, HELD_OUT, SPLIT_SEED);
            long examples = split.evaluation().stream().mapToLong(InputBatch::rows).sum();
            return new Evaluation("sha256:" + InputFiles.sha256(path), signature,
                    first(split.calibration(), samples, signature.batched()), split.evaluation(), examples, null, null,
                    path.toString());
        }

        /** The dataset's splits, checked against the model's one input before any work. */
        static Evaluation of(OnnxData data, ModelSignature signature, int samples, DatasetLocator locator,
                             TrainingMonitor monitor) {
            Dataset dataset = Datasets.open(data.dataset(), data.dataDir(), locator, data.table(),
                    imageOptions(data.dataset(), signature), monitor::message);
            DatasetInputs inputs = DatasetInputs.of(dataset, signature, samples);
            return new Evaluation("dataset:" + inputs.dataset() + " sha256:" + inputs.sha256(), signature,
                    inputs.calibration(), inputs.evaluation(), inputs.evaluationExamples(), inputs.dataset(),
                    data.dataset(), "the " + inputs.dataset() + " test split");
        }

        /**
         * An image folder is read at the size and channels of a model input declared {@code [N, C, H, W]} (C 1 or 3);
         * for any other input, or dataset, as {@code train} reads it.
         */
        static Datasets.ImageOptions imageOptions(String dataset, ModelSignature signature) {
            if (Datasets.isCsv(dataset) || Datasets.isRegistered(dataset) || signature.inputs().size() != 1) {
                return Datasets.ImageOptions.NONE;
            }
            long[] shape = signature.inputs().get(0).shape();
            boolean image = shape != null && shape.length == 4 && (shape[1] == 1 || shape[1] == 3) && shape[2] > 0
                    && shape[3] > 0;
            return image ? Datasets.ImageOptions.of(new long[]{shape[1], shape[2], shape[3]}) : Datasets.ImageOptions.NONE;
        }

        boolean labelled() {
            return heldOut.stream().allMatch(InputBatch::hasLabels);
        }

        String describe() {
            return examples + (calibration.isEmpty() ? "" : " held-out") + " examples from " + what;
        }

        /** The first {@code n} examples of {@code batches}: rows of a batched model's, else whole batches. */
        private static List<InputBatch> first(List<InputBatch> batches, long n, boolean batched) {
            List<InputBatch> out = new ArrayList<>();
            long left = n;
            for (InputBatch b : batches) {
                if (left <= 0) break;
                long rows = batched ? b.rows() : 1;
                out.add(rows <= left ? b : b.rows(0, left));
                left -= rows;
            }
            return out;
        }
    }
}
