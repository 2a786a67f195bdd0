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
import dev.squeeze.compress.onnx.inputs.InputBatch;
import dev.squeeze.compress.onnx.inputs.InputFiles;
import dev.squeeze.compress.onnx.inputs.InputSplit;
import dev.squeeze.compress.onnx.inputs.ModelSignature;
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
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.ExportProvenance;
import dev.squeeze.core.settings.SettingSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * {@code squeeze quantize --from model.onnx}: int8 quantization of any ONNX file, as a {@code quantize} stage (run
 * folder named by the settings and the file's SHA-256, outcome file, ledger row). Dynamic mode only so far: weights
 * int8, activations quantized at run time, no data needed. The graph is loaded in ONNX Runtime and must run integer
 * kernels after its optimizations before it is written; the file appears whole or not at all.
 */
public final class OnnxQuantizeService {
    /** The integer operators looked for in ONNX Runtime's optimized graph. */
    static final Set<String> INTEGER_KERNELS = Set.of("MatMulInteger", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
            "ConvInteger", "QGemm", "QLinearMatMul", "QLinearConv");
    /** The quantized file's name in its run folder. */
    public static final String MODEL_FILE = "model.onnx";

    private final Workspace workspace;
    private final TrainingMonitor monitor;

    public OnnxQuantizeService(Workspace workspace, TrainingMonitor monitor) {
        this.workspace = workspace;
        this.monitor = monitor;
    }

    /**
     * Quantizes {@code file} into its run folder (a finished run with the same file and settings is reused), then
     * copies it to {@code output} ({@code --onnx-output}).
     *
     * @param output the .onnx file to write, or null to leave it in the run folder only
     * @param inputs the model's inputs to measure what quantization cost on ({@code .npz}, {@code .npy}, or a folder
     *               of Open Inference Protocol JSON request bodies), or null to measure nothing
     * @throws BadInputException for a file that is not ONNX or that ONNX Runtime cannot load, an already-quantized
     *                           model, one with nothing to quantize, inputs that do not fit the model, or settings that
     *                           do not apply to ONNX files
     */
    public OnnxQuantizeOutcome quantize(Path file, QuantParams requested, Path output, Path inputs) {
        QuantParams.SETTINGS.check(requested, SettingSpec::flag);
        RunPaths.requireWritable(workspace.runsRoot());
        if (QuantParams.STATIC.equals(requested.mode())) {
            throw new BadInputException("--mode static for ONNX files is not built yet; use --mode dynamic (the default, "
                    + "auto, is dynamic for an ONNX file)");
        }
        if (requested.qatEpochs() != 0) {
            throw new BadInputException("--qat-epochs trains a Squeeze model; an ONNX file is quantized without training");
        }
        FigureBudget budget = requested.figureBudget();
        if (budget != null && inputs == null) {
            throw new BadInputException("--accuracy-budget " + budget.text() + " is measured on your inputs; give them "
                    + "with --inputs FILE|DIR (.npz, .npy, or a folder of request bodies)");
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
        ModelSignature signature = inputs == null ? null : ModelSignature.of(source.model());
        Evaluation evaluation = inputs == null ? null : Evaluation.read(inputs, signature);
        if (budget != null) checkBudget(budget, signature);
        DynamicQuantizer.Plan plan = DynamicQuantizer.plan(source.model(), new HashSet<>(requested.keepFloatNames()));
        // Only what changes the written file names the run: the file's content, the mode, the weight scales, the
        // nodes kept float. Calibration settings do not apply to dynamic mode.
        Map<String, Object> identity = new LinkedHashMap<>(Map.of("source", "sha256:" + source.sha256(),
                "mode", QuantParams.DYNAMIC, "granularity", requested.granularity(), "keep-float", requested.keepFloat()));
        if (evaluation != null) identity.put("evaluation", "sha256:" + evaluation.sha256());
        // The budget decides which nodes stay float: another budget, another file.
        if (budget != null) identity.put("accuracy-budget", budget.text());
        QuantParams params = QuantParams.SETTINGS.build(identity);
        StageResult<OnnxQuantizeOutcome> done = new StageRunner(workspace, monitor::message)
                .run(new Quantize(source, plan, evaluation), params);
        if (target == null) return done.outcome();
        AtomicFiles.copy(done.paths().dir().resolve(MODEL_FILE), target);
        return done.outcome().withOutput(target.toString());
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
            return NewRun.of(QuantizeService.STAGE, source.file().getFileName().toString(), null, hash)
                    .withNotes("int8 dynamic ONNX, " + plan.quantizedCount() + " of " + plan.candidates().size()
                            + " candidates, from " + source.file().toAbsolutePath().normalize());
        }

        @Override
        public String reusedMessage(QuantParams params, RunRecord run) {
            return "already quantized with these settings as run " + run.id();
        }

        @Override
        public RecordedRun.Finished<OnnxQuantizeOutcome> run(StageRun<QuantParams> run) {
            OnnxQuantizeOutcome outcome = write(run, source, plan, evaluation);
            return new RecordedRun.Finished<>(RunResult.of(null, null, null)
                    .withSizes(outcome.params(), null, outcome.int8FileBytes())
                    .withDetails(Json.writeCompact(outcome)), outcome);
        }
    }

    private OnnxQuantizeOutcome write(StageRun<QuantParams> run, OnnxModelFile source, DynamicQuantizer.Plan planned,
                                      Evaluation evaluation) {
        QuantParams params = run.params();
        monitor.message("run " + run.row().id() + ": quantizing " + planned.quantizedCount() + " of "
                + planned.candidates().size() + " MatMul/Gemm/Conv/Gather nodes of " + source.file());
        FigureBudget budget = params.figureBudget();
        BudgetSearch.Found found = null;
        if (evaluation != null) {
            monitor.message("measuring float against int8 on " + evaluation.describe());
            try (QuantizationFigures.Reference reference = QuantizationFigures.Reference.of(evaluation.signature(),
                    source.model().toByteArray(), evaluation.heldOut(), 1)) {
                found = new BudgetSearch(source.model(), params.granularity(), reference, budget, monitor::message)
                        .run(planned);
            }
        }
        // With a budget, the plan it chose: some nodes left float, "over budget".
        DynamicQuantizer.Plan plan = found == null ? planned : found.chosen();
        QuantizationFigures figures = found == null ? null : found.figures();
        DynamicQuantizer.Result result = DynamicQuantizer.quantize(source.model(), plan, params.granularity());
        Path target = run.paths().dir().resolve(MODEL_FILE);
        List<String> kernels = new ArrayList<>(new TreeSet<>(OnnxModelFile.optimizedOperators(
                result.model().toByteArray(), run.paths().dir())));
        kernels.retainAll(INTEGER_KERNELS);
        // An int8 Gather needs no integer kernel (its rows become float after the lookup); any other int8 node does.
        if (kernels.isEmpty() && plan.candidates().stream().anyMatch(c -> c.quantized() && !c.op().equals("Gather"))) {
            throw new IllegalStateException("ONNX Runtime runs no integer kernel for the quantized graph of "
                    + source.file() + "; not written");
        }
        OnnxMl.ModelProto.Builder m = result.model().toBuilder().clearMetadataProps();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (OnnxMl.StringStringEntryProto e : source.model().getMetadataPropsList()) metadata.put(e.getKey(), e.getValue());
        String before = metadata.remove(ExportProvenance.METADATA_KEY);
        if (before != null) metadata.put(ExportProvenance.METADATA_KEY + "_source", before);
        metadata.put(ExportProvenance.METADATA_KEY, provenance(run, source, result.plan(), params, kernels, figures));
        metadata.forEach((k, v) -> m.addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        byte[] bytes = m.build().toByteArray();
        AtomicFiles.write(target, tmp -> Files.write(tmp, bytes));
        long int8Weights = plan.candidates().stream().filter(OnnxCandidate::quantized)
                .map(OnnxCandidate::weight).distinct().mapToLong(w -> weightsOf(plan, w)).sum();
        return new OnnxQuantizeOutcome(run.row().id(), source.file().toAbsolutePath().normalize().toString(),
                source.sha256(), target.toString(), null, QuantParams.DYNAMIC, params.granularity().label(),
                plan.opsetBefore(), plan.opsetAfter(), source.bytes(), bytes.length, source.parameterCount(), int8Weights,
                plan.candidates(), kernels, figures, found == null ? List.of() : found.sensitivity(),
                budget == null ? null : budget.text(), found == null ? null : found.met());
    }

    /**
     * Refuses, before any work, a budget on an output the model does not have, or top-1 on one that is not
     * {@code [N, classes]}.
     */
    private static void checkBudget(FigureBudget budget, ModelSignature signature) {
        List<TensorSignature> outputs = signature.outputs();
        TensorSignature on = budget.output() == null ? (outputs.isEmpty() ? null : outputs.get(0))
                : signature.output(budget.output());
        if (on == null) {
            throw new BadInputException("--accuracy-budget " + budget.text() + ": the model has no tensor output "
                    + (budget.output() == null ? "" : "'" + budget.output() + "'") + "; its outputs are "
                    + outputs.stream().map(TensorSignature::toString).collect(Collectors.joining(", ")));
        }
        if (budget.figure() == FigureBudget.Figure.TOP1_DROP && on.shape().length != 2) {
            throw new BadInputException("--accuracy-budget " + budget.text() + ": output " + on + " is not [N, classes] "
                    + "scores, so it has no top-1; bound cosine, cosine-worst, rel-l2 or max-abs instead");
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
                                     QuantParams params, List<String> kernels, QuantizationFigures figures) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("export_run", run.row().id());
        p.put("stage", QuantizeService.STAGE);
        p.put("mode", "int8 " + QuantParams.DYNAMIC);
        p.put("source_file", source.file().getFileName().toString());
        p.put("source_sha256", source.sha256());
        p.put("config_hash", run.hash().value());
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("mode", QuantParams.DYNAMIC);
        settings.put("granularity", params.granularity().label());
        settings.put("keep_float", params.keepFloatNames());
        if (params.accuracyBudget() != null) settings.put("accuracy_budget", String.valueOf(params.accuracyBudget()));
        p.put("settings", settings);
        p.put("quantized_nodes", plan.candidates().stream().filter(OnnxCandidate::quantized).map(OnnxCandidate::node).toList());
        p.put("integer_kernels", kernels);
        if (figures != null) p.put("figures", figures);
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
     * The user's inputs that measure what quantization cost, all of them held out: dynamic mode calibrates on none.
     *
     * @param sha256    the inputs' content hash: file bytes, or a folder's file names and bytes in name order
     * @param signature the model's inputs and outputs, read once from its graph
     */
    private record Evaluation(Path path, String sha256, ModelSignature signature, List<InputBatch> heldOut, long examples) {
        static Evaluation read(Path path, ModelSignature signature) {
            List<InputBatch> batches = InputFiles.read(path, signature);
            InputSplit split = InputSplit.evaluationOnly(signature, batches, 32);
            long examples = split.evaluation().stream().mapToLong(InputBatch::rows).sum();
            return new Evaluation(path, InputFiles.sha256(path), signature, split.evaluation(), examples);
        }

        String describe() {
            return examples + " examples from " + path;
        }
    }
}
