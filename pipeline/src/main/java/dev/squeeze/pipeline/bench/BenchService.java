package dev.squeeze.pipeline.bench;

import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunQuery;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunResult;
import dev.squeeze.compress.ledger.RunStatus;
import dev.squeeze.compress.stage.Stage;
import dev.squeeze.compress.stage.StageRun;
import dev.squeeze.compress.stage.StageRunner;
import dev.squeeze.compress.train.StageEnvironment;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.core.BadInputException;
import dev.squeeze.core.ExportProvenance;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.data.LabeledData;
import dev.squeeze.serve.bench.BenchmarkOptions;
import dev.squeeze.serve.bench.BenchmarkResult;
import dev.squeeze.serve.bench.Fidelity;
import dev.squeeze.serve.bench.LabeledRows;
import dev.squeeze.serve.bench.ModelBenchmark;
import dev.squeeze.serve.report.ParetoPoint;
import dev.squeeze.serve.report.ParetoReport;

import ai.onnx.proto.OnnxMl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * {@code squeeze bench} and {@code squeeze report}: the same ONNX Runtime measurement for every model variant
 * ({@link ModelBenchmark}), with accuracy measured through ONNX Runtime on the test set of the dataset the model was
 * exported from, each result a ledger row (stage {@code bench}, parent the export run) run through the
 * {@link StageRunner} like every stage, never reused; and the Pareto page built from those rows.
 */
public final class BenchService {
    public static final String STAGE = "bench";

    private final StageEnvironment env;

    public BenchService(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor) {
        this.env = new StageEnvironment(workspace, locator, monitor);
    }

    /** A model to measure: its name (the folder's, or the file's without .onnx) and its file. */
    public record Target(String name, Path file) {
    }

    /** {@code DIR/NAME/model.onnx} (a serving folder) and {@code DIR/*.onnx}, sorted by name. */
    public static List<Target> targets(Path dir) {
        if (!Files.isDirectory(dir)) throw new BadInputException("--models " + dir + " is not a folder");
        List<Target> out = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path p : entries.sorted().toList()) {
                if (Files.isRegularFile(p.resolve("model.onnx"))) out.add(new Target(p.getFileName().toString(), p.resolve("model.onnx")));
                String f = p.getFileName().toString();
                if (Files.isRegularFile(p) && f.endsWith(".onnx")) out.add(new Target(f.substring(0, f.length() - 5), p));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (out.isEmpty()) throw new BadInputException(dir + " holds no NAME/model.onnx folder and no .onnx file");
        return out;
    }

    /**
     * Measures every target and records each result.
     *
     * @param dataset the dataset whose test set measures accuracy, or null for the one each export names
     */
    public List<BenchmarkResult> bench(List<Target> targets, BenchmarkOptions options, String dataset, Path dataDir) {
        List<BenchmarkResult> results = new ArrayList<>();
        Map<String, LabeledRows> testSets = new HashMap<>();
        // A benchmark measures this machine now: never reused, each one a new row (the folder keeps the latest).
        StageRunner runner = env.runner().forced(true);
        Map<Target, Optional<ExportProvenance>> provenances = new LinkedHashMap<>();
        Map<Target, String> parents = new HashMap<>();
        try (RunLedger ledger = env.workspace().openLedger()) {
            for (Target t : targets) {
                Optional<ExportProvenance> provenance = provenance(t.file());
                provenances.put(t, provenance);
                String parent = provenance.map(ExportProvenance::exportRun).orElse(null);
                if (parent != null && ledger.get(parent).isPresent()) parents.put(t, parent);
            }
        }
        // A float ONNX file that others in the set were quantized from is their reference for fidelity.
        Map<String, Fidelity> references = Fidelity.references(provenances.values().stream().flatMap(Optional::stream).toList());
        for (Target t : targets) {
            Optional<ExportProvenance> provenance = provenances.get(t);
            String data = dataset != null ? dataset : provenance.map(ExportProvenance::accuracyAtExport)
                    .map(ExportProvenance.AccuracyAtExport::dataset).orElse(null);
            LabeledRows rows = data == null ? null : testSets.computeIfAbsent(data, d -> testSet(d, dataDir));
            env.monitor().message("benchmarking " + t.name() + " (" + t.file() + ")");
            BenchParams params = BenchParams.of(t, data, options);
            results.add(runner.run(new BenchStage(t, provenance, parents.get(t), options, rows, references), params).outcome());
        }
        return results;
    }

    /**
     * A benchmark's settings, the bench stage's hashed record: which model file, measured on which test set, and how
     * ({@link BenchmarkOptions}, whose settings are declared there, so a setting added there is hashed here with no
     * change). The run folder {@code bench-<hash>} holds the latest benchmark of these settings; the ledger keeps every
     * one. A benchmark is never reused, so the measurement's nesting (since issue 14) moved only the folders of
     * non-default measurements, to which nothing refers back.
     */
    public record BenchParams(String model, String file, String dataset, BenchmarkOptions measure) {
        /** {@link BenchmarkOptions#DEFAULTS}, no model: a field equal to these stays out of the hash. */
        public static final BenchParams DEFAULTS = of(null, null, BenchmarkOptions.DEFAULTS);

        static BenchParams of(Target target, String dataset, BenchmarkOptions measure) {
            return new BenchParams(target == null ? null : target.name(),
                    target == null ? null : target.file().toAbsolutePath().toString(), dataset, measure);
        }
    }

    /** The bench stage: one model measured through ONNX Runtime, its ledger row a child of the export run. */
    private static final class BenchStage implements Stage<BenchParams, BenchmarkResult> {
        private static final Definition<BenchParams, BenchmarkResult> DEFINITION =
                new Definition<>(STAGE, BenchParams.DEFAULTS, BenchmarkResult.class, "interrupted");
        private final Target target;
        private final Optional<ExportProvenance> provenance;
        private final String parent;
        private final BenchmarkOptions options;
        private final LabeledRows rows;
        private final Map<String, Fidelity> references;

        /**
         * @param parent     the export run the ledger lists, or null
         * @param references the float models the set's quantized files came from ({@link Fidelity#references})
         */
        BenchStage(Target target, Optional<ExportProvenance> provenance, String parent, BenchmarkOptions options,
                   LabeledRows rows, Map<String, Fidelity> references) {
            this.target = target;
            this.provenance = provenance;
            this.parent = parent;
            this.options = options;
            this.rows = rows;
            this.references = references;
        }

        @Override
        public Definition<BenchParams, BenchmarkResult> definition() {
            return DEFINITION;
        }

        @Override
        public NewRun row(BenchParams params, ConfigHash hash) {
            return NewRun.of(STAGE, params.model(), params.dataset(), hash).withParent(parent).withNotes(kind(provenance));
        }

        @Override
        public RecordedRun.Finished<BenchmarkResult> run(StageRun<BenchParams> run) {
            BenchmarkResult b = ModelBenchmark.measure(target.name(), target.file().toAbsolutePath(), options, rows, references);
            return new RecordedRun.Finished<>(RunResult.of(null, null, b.accuracy())
                    .withSizes(b.parameters(), b.nonZeroParameters(), b.fileBytes()).withDetails(Json.writeCompact(b)), b);
        }
    }

    /** The raw test set (what a client sends; exports normalize in the graph) of {@code dataset}. */
    private LabeledRows testSet(String dataset, Path dataDir) {
        Dataset d = Datasets.open(dataset, dataDir, env.locator(), Datasets.TableOptions.NONE, env.monitor()::message);
        LabeledData test = d.test();
        return new LabeledRows(test.features(), d.inputShape(), test.labels());
    }

    /** The latest benchmark of each model in the ledger, as plot points, with how each was made. */
    public List<ParetoPoint> points() {
        Map<String, ParetoPoint> latest = new LinkedHashMap<>();
        try (RunLedger ledger = env.workspace().openLedger()) {
            for (RunRecord r : ledger.query(RunQuery.all().withStage(STAGE).withStatus(RunStatus.DONE))) {
                if (r.details() == null || latest.containsKey(r.model())) continue;   // newest first
                BenchmarkResult b = Json.read(r.details(), BenchmarkResult.class);
                latest.put(r.model(), ParetoPoint.of(b, r.notes()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new ArrayList<>(latest.values());
    }

    /** Writes the Pareto page of every model's latest benchmark into {@code dir}; returns how many points. */
    public int report(Path dir) {
        List<ParetoPoint> points = points();
        if (points.isEmpty()) throw new BadInputException("the ledger " + env.workspace().ledgerLocation() + " holds no benchmark; "
                + "run 'squeeze bench --models DIR' first");
        try {
            ParetoReport.write(dir, "Squeeze: size, speed and accuracy", points, "squeeze bench (ONNX Runtime "
                    + "in-process, 1 thread unless stated, warm-up excluded, windows repeated until stable; accuracy through "
                    + "ONNX Runtime on the test set, or from the export's metadata; fidelity to float from the figures "
                    + "'squeeze quantize --inputs' stored in the file); the latest benchmark of each model in ledger " + env.workspace().ledgerLocation());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report into " + dir + ": " + e.getMessage(), e);
        }
        return points.size();
    }

    /** Stages, nearest first, with repeats counted: [prune, prune, train] reads "prune x2 of train". */
    static String collapse(List<String> stages) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < stages.size(); ) {
            int j = i;
            while (j < stages.size() && stages.get(j).equals(stages.get(i))) j++;
            parts.add(stages.get(i) + (j - i > 1 ? " x" + (j - i) : ""));
            i = j;
        }
        return String.join(" of ", parts);
    }

    /** The export's provenance, or empty for ONNX files from elsewhere (or files that are not ONNX: ModelBenchmark says so). */
    static Optional<ExportProvenance> provenance(Path onnx) {
        Map<String, String> metadata = new HashMap<>();
        try {
            for (OnnxMl.StringStringEntryProto e : OnnxMl.ModelProto.parseFrom(Files.readAllBytes(onnx)).getMetadataPropsList()) {
                metadata.put(e.getKey(), e.getValue());
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return ExportProvenance.read(metadata);
    }

    /** How a Squeeze export was made, e.g. {@code int8: prune of train}; empty for other ONNX files. */
    static String kind(Optional<ExportProvenance> provenance) {
        if (provenance.isEmpty()) return "";
        String mode = provenance.get().mode() == null ? "" : provenance.get().mode();
        String chain = collapse(provenance.get().parentStages());
        return (mode.isEmpty() ? "" : mode + (chain.isEmpty() ? "" : ": ")) + chain;
    }
}
