package dev.squeeze.pipeline.shrink;

import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.distill.DistillOutcome;
import dev.squeeze.compress.distill.DistillService;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunResult;
import dev.squeeze.compress.onnx.ExportOutcome;
import dev.squeeze.compress.onnx.ExportParams;
import dev.squeeze.compress.onnx.ExportService;
import dev.squeeze.compress.onnx.OnnxExporter;
import dev.squeeze.compress.onnx.OnnxRuntimeModel;
import dev.squeeze.compress.prune.LevelResult;
import dev.squeeze.compress.prune.PruneControl;
import dev.squeeze.compress.prune.PruneOutcome;
import dev.squeeze.compress.prune.PruneParams;
import dev.squeeze.compress.prune.PruneScope;
import dev.squeeze.compress.prune.PruneTeacher;
import dev.squeeze.compress.prune.PruneService;
import dev.squeeze.compress.prune.Structure;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.quant.QuantizeService;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.stage.Stage;
import dev.squeeze.compress.stage.StageResult;
import dev.squeeze.compress.stage.StageRun;
import dev.squeeze.compress.stage.StageRunner;
import dev.squeeze.compress.train.StageEnvironment;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.TrainedRun;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.core.AtomicFiles;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.models.zoo.BuildSettings;
import dev.squeeze.models.zoo.ModelZoo;
import dev.squeeze.models.zoo.Network;
import dev.squeeze.pipeline.bench.BenchService;
import dev.squeeze.serve.bench.BenchmarkOptions;
import dev.squeeze.serve.bench.BenchmarkResult;
import dev.squeeze.serve.report.ParetoReport;
import org.deeplearning4j.nn.conf.layers.DenseLayer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code squeeze shrink}: from a training run, tries the compressions the project has, cheapest training first, and
 * chooses the smallest (or fastest) model within an accuracy budget:
 * <ol>
 *   <li>{@code int8}: the trained model quantized (no training);</li>
 *   <li>{@code prune}: unstructured pruning levels ({@link PruneService}, each level retrained), each quantized;</li>
 *   <li>{@code structured}: neurons (or, in convolutional and residual networks, channels) removed level by level,
 *       each level retrained, float and quantized;</li>
 *   <li>{@code distill}: the zoo models smaller than the trained one, smallest first, each distilled from it and
 *       trained alone ({@link DistillService} trains both), float and quantized.</li>
 * </ol>
 * Each float model is measured as every {@link Variant} that applies to it: quantized by {@link QuantizeService},
 * exported by {@link ExportService}, then measured by a {@value #CANDIDATE_STAGE} run on the same terms as the dense
 * float model: raw ONNX file size, validation accuracy in ONNX Runtime (what the choice is made on, against the budget)
 * and test accuracy (reported beside it, never chosen on), and the batch-1 p50 latency of {@link BenchService}. A
 * pruning kind stops going deeper once a level's models are all over the budget; with target size, a student whose
 * weights alone take more bytes than the best file within the budget is not trained.
 *
 * <p>Every step is a stage run found again by its configuration hash, so the same call after Ctrl-C or a kill
 * continues where it stopped; the search itself is a {@value #STAGE} run (child of the training run) whose folder holds
 * its outcome, the report page and the table as CSV, and every run it made or used carries its id
 * ({@link ShrinkParams#searchId()}) as its sweep id. At the end the chosen model is copied to
 * {@code chosen/model.onnx} in the search's folder (and to the output file, if given) and benchmarked beside the dense
 * float model, on this machine now.
 */
public final class ShrinkService {
    public static final String STAGE = "shrink";
    /** The stage of a candidate's measurement. */
    public static final String CANDIDATE_STAGE = "shrink-candidate";
    /** The kinds of candidate, in the order they run: the least training first. */
    public static final List<String> KINDS = List.of("quantize", "prune", "structured", "distill");
    /** How students are distilled: the recipe's distill section, what docs/distillation.md settled on. */
    static final double STUDENT_TEMPERATURE = 4;
    static final double STUDENT_ALPHA = 0.5;
    static final double STUDENT_LR_DECAY = 0.9;
    static final int STUDENT_PATIENCE = 5;

    private final StageEnvironment env;

    public ShrinkService(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor) {
        this.env = new StageEnvironment(workspace, locator, monitor);
    }

    /**
     * Runs (or continues, or reuses) the search, then writes the chosen model out and benchmarks it.
     *
     * @param from    a training run id (or unique prefix), or its model file
     * @param output  a .onnx file to copy the chosen model to, or null
     * @param bench   how latency is measured: candidates at batch 1 from one caller (and batch 32 and 256), the chosen
     *                and the dense model at the end as given
     * @param dataDir where the dataset's files are, or null to locate them
     * @throws BadInputException before any work when {@code from} is not a finished training run, a setting is out of
     *                           range, or the output cannot be written
     */
    public ShrinkOutcome shrink(ShrinkParams requested, String from, Path output, BenchmarkOptions bench, Path dataDir) {
        ShrinkParams.SETTINGS.check(requested);
        Path target = output == null ? null : output.toAbsolutePath().normalize();
        if (target != null) {
            if (Files.isDirectory(target)) {
                throw new BadInputException("--output " + output + " is a folder; give the .onnx file to write");
            }
            RunPaths.requireWritable(target.getParent());
        }
        RunPaths.requireWritable(env.workspace().runsRoot());
        TrainedRun trained = TrainedRun.resolve(from, env.workspace(), TrainingService.STAGE);
        ShrinkParams params = requested.withSource(trained.run().configHash(),
                Variant.ALL.stream().map(Variant::name).toList(), ExportParams.DEFAULTS.withCurrentWriter().writer(),
                QuantParams.DEFAULTS.withCurrentWeightScales().weightScales());
        String id = params.searchId();
        StageRunner runner = env.runner().inSweep(id);
        BenchmarkOptions candidateBench = bench.with("callers", List.of(1));
        StageResult<ShrinkOutcome> result = runner.run(new Search(trained, runner, candidateBench, dataDir), params);
        return deliver(result.outcome(), result.paths(), target, bench, dataDir);
    }

    /** The chosen model copied into the search's folder (and to {@code output}), benchmarked beside the dense one. */
    private ShrinkOutcome deliver(ShrinkOutcome outcome, RunPaths search, Path output, BenchmarkOptions bench,
                                  Path dataDir) {
        Candidate chosen = outcome.chosenCandidate();
        if (chosen == null) return outcome;
        Path folder = search.dir().resolve("chosen");
        Path file = folder.resolve("model.onnx");
        AtomicFiles.copy(Path.of(chosen.file()), file);
        if (output != null) AtomicFiles.copy(Path.of(chosen.file()), output);
        env.monitor().message("benchmarking the chosen model beside the dense float model");
        List<BenchmarkResult> results = new BenchService(env.workspace(), env.locator(), env.monitor()).bench(List.of(
                new BenchService.Target(outcome.model() + " shrunk", file),
                new BenchService.Target(outcome.model() + " dense", Path.of(outcome.dense().file()))), bench, null, dataDir);
        tag(outcome.searchId(), results.stream().map(this::benchRun).toList());
        return outcome.withDelivery(new ShrinkOutcome.Delivery(file.toString(), output == null ? null : output.toString(),
                results.get(0), results.get(1)));
    }

    /** The search as a stage: its row, its folder, its outcome file. */
    private final class Search implements Stage<ShrinkParams, ShrinkOutcome> {
        private final TrainedRun trained;
        private final StageRunner runner;
        private final BenchmarkOptions bench;
        private final Path dataDir;

        Search(TrainedRun trained, StageRunner runner, BenchmarkOptions bench, Path dataDir) {
            this.trained = trained;
            this.runner = runner;
            this.bench = bench;
            this.dataDir = dataDir;
        }

        @Override
        public Definition<ShrinkParams, ShrinkOutcome> definition() {
            return new Definition<>(STAGE, ShrinkParams.DEFAULTS, ShrinkOutcome.class,
                    "interrupted; the same command continues: every finished candidate is found again");
        }

        @Override
        public NewRun row(ShrinkParams params, ConfigHash hash) {
            return NewRun.of(STAGE, trained.run().model(), trained.run().dataset(), hash).withParent(trained.run().id())
                    .withNotes(String.format(Locale.ROOT, "shrink within %s points, smallest %s; tries %s",
                            dev.squeeze.core.settings.SettingSpec.number(params.budget()),
                            params.target().name().toLowerCase(Locale.ROOT), String.join(", ", params.kinds())));
        }

        @Override
        public String reusedMessage(ShrinkParams params, RunRecord run) {
            return "search already finished as run " + run.id() + "; its candidates and choice follow";
        }

        @Override
        public RecordedRun.Finished<ShrinkOutcome> run(StageRun<ShrinkParams> run) {
            ShrinkOutcome outcome = new Searching(trained, run, runner, bench, dataDir).search();
            Candidate chosen = outcome.chosenCandidate();
            RunResult result = chosen == null ? RunResult.of(null, null, null)
                    : RunResult.of(null, chosen.valAcc(), chosen.testAcc())
                    .withSizes(chosen.params(), chosen.nonzeroParams(), chosen.fileBytes());
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("search_id", outcome.searchId());
            details.put("candidates", outcome.candidates().size());
            details.put("chosen", chosen == null ? null : chosen.describe());
            details.put("chosen_export_run", chosen == null ? null : chosen.exportRun());
            details.put("dense_val_acc", outcome.dense().valAcc());
            return new RecordedRun.Finished<>(result.withDetails(Json.writeCompact(details)), outcome);
        }
    }

    /** A float model the search made, to be measured as each variant that applies to it. */
    private record Source(String kind, String label, String model, String run, boolean zeros, boolean baseline) {
    }

    /** One search in progress: what it has measured so far, and the steps that make more. */
    private final class Searching {
        private final TrainedRun trained;
        private final StageRun<ShrinkParams> run;
        private final ShrinkParams params;
        private final StageRunner runner;
        private final BenchmarkOptions bench;
        private final Path dataDir;
        private final LabeledData validation;
        private final long[] inputShape;
        private final List<Candidate> candidates = new ArrayList<>();
        private final List<String> notes = new ArrayList<>();
        private final Set<String> measuredSources = new HashSet<>();
        private final long started = System.nanoTime();
        private Candidate dense;

        Searching(TrainedRun trained, StageRun<ShrinkParams> run, StageRunner runner, BenchmarkOptions bench,
                  Path dataDir) {
            this.trained = trained;
            this.run = run;
            this.params = run.params();
            this.runner = runner;
            this.bench = bench;
            this.dataDir = dataDir;
            TrainParams train = trained.params();
            var dataset = train.openDataset(dataDir, env.locator(), env.monitor()::message);
            // The raw examples the training held out: exports take raw features and normalize in the graph.
            var split = TrainingData.carve(dataset, train.validationFraction());
            this.validation = split.validation();
            this.inputShape = dataset.inputShape();
            if (train.refit().appliesTo(split.train().size())) {
                notes.add("the training run refit on its validation examples too (refit " + train.refit().name()
                        .toLowerCase(Locale.ROOT) + "), so validation accuracy flatters the models trained from it; "
                        + "the choice is still made on it, never on the test set");
            }
        }

        ShrinkOutcome search() {
            Source trainedModel = new Source("trained", "trained model", trained.run().model(), trained.run().id(),
                    false, true);
            dense = measure(trainedModel, Variant.FLOAT, 0);
            env.monitor().message(String.format(Locale.ROOT, "shrink %s: dense %s, %s, val %.2f%%, test %.2f%%; budget "
                            + "%s points, smallest %s; trying %s", params.searchId(), trained.run().model(),
                    Candidate.kb(dense.fileBytes()), 100 * dense.valAcc(), 100 * dense.testAcc(),
                    dev.squeeze.core.settings.SettingSpec.number(params.budget()),
                    params.target().name().toLowerCase(Locale.ROOT), String.join(", ", params.kinds())));
            if (params.convActivations() != QuantParams.DEFAULTS.convActivations()) {
                String note = "the quantized variants compute their convolutions in float over int8 weights "
                        + "(--conv-activations float)";
                notes.add(note);
                env.monitor().message(note);
            }
            if (params.teacher() == PruneTeacher.DENSE && params.kinds().stream().anyMatch(k -> k.equals("prune")
                    || k.equals("structured"))) {
                notes.add("the pruning levels learned from the trained model's soft targets as well as the labels "
                        + "(--teacher dense)");
            }
            for (String kind : params.kinds()) {
                switch (kind) {
                    case "quantize" -> measureAll(new Source("quantize", "trained model", trained.run().model(),
                            trained.run().id(), false, true));
                    case "prune" -> prune(Structure.NONE);
                    case "structured" -> prune(structureOf(ModelFile.load(trained.paths().model(), false).network()));
                    case "distill" -> distill();
                    default -> throw new IllegalStateException("unknown kind " + kind);
                }
            }
            Candidate chosen = ShrinkOutcome.choose(candidates, params.target());
            Path report = run.paths().dir().resolve("report");
            ShrinkOutcome outcome = new ShrinkOutcome(params.searchId(), trained.run().id(), trained.run().model(),
                    params.budget(), params.target(), dense, candidates, chosen == null ? null : chosen.number(), notes,
                    report.toString(), (System.nanoTime() - started) / 1e9, null);
            writeReport(outcome, report);
            AtomicFiles.writeString(run.paths().dir().resolve("candidates.csv"), outcome.csv());
            return outcome;
        }

        /** Measures {@code source} as every variant that applies to it; returns those measured now or before. */
        private List<Candidate> measureAll(Source source) {
            List<Candidate> out = new ArrayList<>();
            for (Variant v : Variant.ALL) {
                if (!v.appliesTo(source.baseline())) continue;
                String key = source.kind() + "|" + source.run() + "|" + v.name();
                if (!measuredSources.add(key)) {
                    candidates.stream().filter(c -> c.kind().equals(source.kind()) && c.variant().equals(v.name())
                            && c.source().equals(source.label())).forEach(out::add);
                    continue;
                }
                Candidate c = measure(source, v, candidates.size() + 1);
                candidates.add(c);
                out.add(c);
                env.monitor().message(c.line(dense, params.budget()));
            }
            return out;
        }

        /** Pruning levels of one structure, each level's models measured as it finishes; stops once all are over. */
        private void prune(Structure structure) {
            String kind = structure == Structure.NONE ? "prune" : "structured";
            PruneScope scope = structure == Structure.NONE ? params.scope() : PruneScope.LAYER;
            PruneParams prune = new PruneParams(null, params.levels(), params.rate(), params.rewindTo(), scope,
                    PruneControl.NONE, structure, params.teacher());
            env.monitor().message(String.format(Locale.ROOT, "%s: up to %d levels at rate %s, rewind to %s%s%s%s", kind,
                    params.levels(), dev.squeeze.core.settings.SettingSpec.number(params.rate()), prune.rewindTo(),
                    scope == PruneScope.GLOBAL ? ", one threshold over every layer" : "",
                    prune.teacher() == PruneTeacher.DENSE ? ", learning from the trained model's soft targets" : "",
                    structure == Structure.NONE ? "" : " (" + structure.cliName() + ")"));
            PruneService service = new PruneService(env.workspace(), env.locator(), env.monitor());
            PruneOutcome outcome = service.prune(prune, trained.run().id(), dataDir, level -> {
                boolean within = measureLevel(kind, structure, level).stream().anyMatch(Candidate::withinBudget);
                if (!within && level.level() < params.levels()) {
                    notes.add(String.format(Locale.ROOT, "%s stopped after level %d of %d: its models are all over the "
                            + "budget, and deeper levels only lose more", kind, level.level(), params.levels()));
                }
                return within;
            });
            List<Candidate> last = List.of();
            for (LevelResult level : outcome.tickets()) last = measureLevel(kind, structure, level);
            if (outcome.tickets().size() == params.levels() && last.stream().anyMatch(Candidate::withinBudget)) {
                notes.add(String.format(Locale.ROOT, "%s reached its last level (--levels %d) with models still within "
                        + "the budget: more levels may find a smaller one", kind, params.levels()));
            }
            tag(params.searchId(), outcome.tickets().stream().map(LevelResult::runId).toList());
        }

        private List<Candidate> measureLevel(String kind, Structure structure, LevelResult level) {
            String label = String.format(Locale.ROOT, "%s L%d (%.1f%% of weights)",
                    structure == Structure.NONE ? "pruned" : structure.cliName(), level.level(),
                    100 * level.totalRemaining());
            return measureAll(new Source(kind, label, trained.run().model(), level.runId(), structure == Structure.NONE,
                    false));
        }

        /** Students smaller than the trained model, smallest first, each distilled and trained alone. */
        private void distill() {
            ModelFile.Loaded teacher = ModelFile.load(trained.paths().model(), false);
            long teacherParams = teacher.network().numParams();
            Map<String, Long> sizes = new LinkedHashMap<>();
            List<String> names = params.students() != null ? params.students() : List.copyOf(ModelZoo.all().keySet());
            for (String name : names) {
                if (name.equals(trained.run().model())) continue;
                Optional<Long> size = studentSize(name, teacher);
                if (size.isEmpty()) {
                    if (params.students() != null) notes.add("student " + name + " does not fit the data of "
                            + trained.run().model() + "; skipped");
                } else if (size.get() >= teacherParams) {
                    if (params.students() != null) notes.add(String.format(Locale.ROOT, "student %s (%,d parameters) "
                            + "is not smaller than %s (%,d); skipped", name, size.get(), trained.run().model(), teacherParams));
                } else {
                    sizes.put(name, size.get());
                }
            }
            List<String> students = sizes.keySet().stream().sorted(Comparator.comparing(sizes::get)).toList();
            if (students.isEmpty()) notes.add("distill: no zoo model is smaller than " + trained.run().model());
            int fewestBits = Variant.ALL.stream().mapToInt(Variant::weightBits).min().orElse(32);
            DistillService service = new DistillService(env.workspace(), env.locator(), env.monitor());
            for (String student : students) {
                Candidate best = ShrinkOutcome.choose(candidates, ShrinkTarget.SIZE);
                long lowerBound = sizes.get(student) * fewestBits / 8;
                if (params.target() == ShrinkTarget.SIZE && best != null && lowerBound >= best.fileBytes()) {
                    notes.add(String.format(Locale.ROOT, "student %s not trained: its %,d weights take at least %s at "
                                    + "%d bits, more than #%d within the budget (%s)", student, sizes.get(student),
                            Candidate.kb(lowerBound), fewestBits, best.number(), Candidate.kb(best.fileBytes())));
                    continue;
                }
                env.monitor().message(String.format(Locale.ROOT, "distill: %s (%,d parameters) from %s, and alone",
                        student, sizes.get(student), trained.run().model()));
                DistillOutcome d = service.distill(List.of(trained.run().id()), studentParams(student),
                        List.of(STUDENT_TEMPERATURE), STUDENT_ALPHA, dataDir);
                tag(params.searchId(), List.of(d.best().runId(), d.alone().runId()));
                measureAll(new Source("distill", student + " distilled", student, d.best().runId(), false, false));
                measureAll(new Source("distill", student + " alone", student, d.alone().runId(), false, false));
            }
        }

        /** The student's training: the trained model's settings, with the distillation schedule. */
        private TrainParams studentParams(String student) {
            TrainParams p = trained.params().withModel(student).withSnapshot(null);
            p = TrainParams.SETTINGS.with(p, "lr-decay", STUDENT_LR_DECAY);
            p = TrainParams.SETTINGS.with(p, "patience", STUDENT_PATIENCE);
            return TrainParams.SETTINGS.with(p, "example-decay", 1.0);
        }

        /** The student's parameter count for the trained model's data, or empty when it cannot take that data. */
        private Optional<Long> studentSize(String name, ModelFile.Loaded teacher) {
            try {
                var settings = new BuildSettings(trained.params().seed(), trained.params().learningRate(),
                        teacher.info().inputShape(), teacher.info().numClasses());
                return Optional.of(ModelZoo.get(name).build(settings).numParams());
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        }

        /** Quantizes (when the variant does), exports and measures one candidate. */
        private Candidate measure(Source source, Variant variant, int number) {
            String modelRun = source.run();
            if (variant.quantized()) {
                Map<String, Object> settings = new HashMap<>(variant.quantize());
                if (params.convActivations() != QuantParams.DEFAULTS.convActivations()) {
                    settings.put("conv-activations", params.convActivations());
                }
                QuantParams quantize = QuantParams.SETTINGS.build(settings);
                modelRun = new QuantizeService(env.workspace(), env.locator(), env.monitor())
                        .quantize(source.run(), quantize, dataDir).runId();
            }
            ExportOutcome exported = variant.export().export(new ExportService(env.workspace(), env.locator(),
                    env.monitor()), modelRun, dataDir);
            Measure stage = new Measure(source, variant, exported);
            StageResult<Measurement> measured = runner.run(stage, new MeasureParams(exported.runId(),
                    trained.params().validationFraction(), bench));
            Measurement m = measured.outcome();
            tag(params.searchId(), List.of(modelRun, exported.runId(), m.benchRun()));
            boolean within = number == 0 || m.valAcc() >= dense.valAcc() - params.budget() / 100 - 1e-9;
            return new Candidate(number, source.kind(), source.label(), variant.name(), source.model(), modelRun,
                    exported.runId(), measured.run().id(), m.benchRun(), exported.output(), m.fileBytes(),
                    m.zippedBytes(), m.params(), m.nonzeroParams(), m.valAcc(), m.testAcc(), m.latencyP50Micros(),
                    m.latencyP99Micros(), within);
        }

        /** A candidate's measurement as a stage: reused by the export it measures and how. */
        private final class Measure implements Stage<MeasureParams, Measurement> {
            private final Source source;
            private final Variant variant;
            private final ExportOutcome exported;

            Measure(Source source, Variant variant, ExportOutcome exported) {
                this.source = source;
                this.variant = variant;
                this.exported = exported;
            }

            @Override
            public Definition<MeasureParams, Measurement> definition() {
                return new Definition<>(CANDIDATE_STAGE, MeasureParams.DEFAULTS, Measurement.class,
                        "interrupted; the same shrink measures it again");
            }

            @Override
            public NewRun row(MeasureParams p, ConfigHash hash) {
                return NewRun.of(CANDIDATE_STAGE, source.model(), trained.run().dataset(), hash)
                        .withParent(exported.runId()).withNotes(variant.name() + " of " + source.label());
            }

            @Override
            public RecordedRun.Finished<Measurement> run(StageRun<MeasureParams> r) {
                Path file = Path.of(exported.output());
                double val = validationAccuracy(file);
                BenchmarkResult b = new BenchService(env.workspace(), env.locator(), TrainingMonitor.SILENT).bench(
                        List.of(new BenchService.Target(benchName(source, variant), file)), bench, null, dataDir).get(0);
                Measurement m = new Measurement(val, validation.size(), exported.onnxTestAccuracy(), b.fileBytes(),
                        b.zippedBytes(), b.parameters(), b.nonZeroParameters(), b.latencyP50Micros(),
                        b.latencyP99Micros(), benchRun(b));
                return new RecordedRun.Finished<>(RunResult.of(null, val, exported.onnxTestAccuracy())
                        .withSizes(m.params(), m.nonzeroParams(), m.fileBytes()).withDetails(Json.writeCompact(m)), m);
            }
        }

        /** What the benchmark (and 'squeeze report') calls it: {@code lenet-300-100 int8 pruned-L1-50.1}. */
        private static String benchName(Source source, Variant variant) {
            return (source.model() + " " + variant.name() + " " + source.label().replace(" of weights", "")
                    .replaceAll("[^A-Za-z0-9.]+", "-")).replaceAll("-+$", "");
        }

        /** The share of the held-out validation examples the ONNX file classifies right, in ONNX Runtime. */
        private double validationAccuracy(Path file) {
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
            }
            float[][] out;
            try (OnnxRuntimeModel ort = new OnnxRuntimeModel(bytes, inputShape, 1, null)) {
                out = ort.runAll(OnnxExporter.PROBABILITIES, validation);
            }
            int correct = 0;
            for (int i = 0; i < out.length; i++) if (Evaluator.argmax(out[i]) == validation.labels()[i]) correct++;
            return (double) correct / out.length;
        }

        private void writeReport(ShrinkOutcome outcome, Path dir) {
            try {
                ParetoReport.write(dir, "squeeze shrink " + outcome.searchId() + ": " + outcome.model()
                        + ", validation accuracy against size and latency", outcome.points(), "squeeze shrink: every "
                        + "candidate exported to ONNX and measured in ONNX Runtime in process (1 thread, batch 1 from one "
                        + "caller, warm-up excluded, windows repeated until stable); accuracy here is VALIDATION accuracy "
                        + "on the examples the training held out, what the choice is made on (test accuracy is in "
                        + "candidates.csv and the command's table, never chosen on); the dense float model is the "
                        + "reference the budget of " + dev.squeeze.core.settings.SettingSpec.number(outcome.budget())
                        + " points is taken from");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the report into " + dir + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * What names a candidate's measurement: the export measured, the validation split, how latency is measured.
     *
     * @param export             the export run whose file is measured
     * @param validationFraction the share of the training set the training held out for validation
     */
    public record MeasureParams(String export, double validationFraction, BenchmarkOptions bench) {
        static final MeasureParams DEFAULTS = new MeasureParams(null, TrainParams.DEFAULT_VALIDATION_FRACTION,
                BenchmarkOptions.DEFAULTS);
    }

    /** A candidate's measurement, its stage's outcome. */
    public record Measurement(double valAcc, int valExamples, double testAcc, long fileBytes, long zippedBytes,
                              long params, long nonzeroParams, double latencyP50Micros, double latencyP99Micros,
                              String benchRun) {
    }

    /** The ledger row of a benchmark: the newest bench row of its file. */
    private String benchRun(BenchmarkResult b) {
        try (RunLedger ledger = env.workspace().openLedger()) {
            // Rows come newest first: the benchmark just recorded is among the first.
            return ledger.query(dev.squeeze.compress.ledger.RunQuery.all().withStage(BenchService.STAGE).withLimit(64))
                    .stream()
                    .filter(r -> r.details() != null && r.details().contains(b.timestamp()))
                    .map(RunRecord::id).findFirst().orElse(null);
        }
    }

    /** Marks {@code runs} (nulls skipped) as part of search {@code id}, unless they already belong to a sweep. */
    private void tag(String id, List<String> runs) {
        try (RunLedger ledger = env.workspace().openLedger()) {
            for (String r : runs) if (r != null) ledger.tagSweep(r, id);
        }
    }

    /** Neurons for a layer stack with hidden dense layers, else channels (convolutions, residual graphs). */
    static Structure structureOf(Network net) {
        if (net.isGraph()) return Structure.CHANNELS;
        long dense = net.layers().stream().filter(l -> l.config() instanceof DenseLayer).count();
        return dense > 0 ? Structure.NEURONS : Structure.CHANNELS;
    }
}
