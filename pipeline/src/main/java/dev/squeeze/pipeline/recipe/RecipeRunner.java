package dev.squeeze.pipeline.recipe;

import dev.squeeze.pipeline.bench.BenchService;
import dev.squeeze.pipeline.shrink.Candidate;
import dev.squeeze.pipeline.shrink.ShrinkOutcome;
import dev.squeeze.pipeline.shrink.ShrinkParams;
import dev.squeeze.pipeline.shrink.ShrinkService;
import dev.squeeze.core.AtomicFiles;
import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelImport;
import dev.squeeze.compress.runs.ModelSource;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.distill.DistillOutcome;
import dev.squeeze.compress.distill.DistillParams;
import dev.squeeze.compress.distill.DistillService;
import dev.squeeze.compress.doctor.Doctor;
import dev.squeeze.compress.doctor.DoctorReport;
import dev.squeeze.compress.onnx.ExportService;
import dev.squeeze.compress.prune.PruneOutcome;
import dev.squeeze.compress.prune.PruneParams;
import dev.squeeze.compress.prune.PruneService;
import dev.squeeze.compress.quant.QuantParams;
import dev.squeeze.compress.quant.QuantizeOutcome;
import dev.squeeze.compress.quant.QuantizeService;
import dev.squeeze.compress.report.FixedWidthTable;
import dev.squeeze.compress.train.TrainOutcome;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.StageEnvironment;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.serve.bench.BenchmarkResult;
import dev.squeeze.serve.http.PortInUseException;
import dev.squeeze.serve.http.SqueezeServer;
import io.micronaut.runtime.server.EmbeddedServer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code squeeze run}: the stages a recipe declares, in order, through the same services the single commands use:
 * train (or start from a model), doctor, distill, prune, quantize every float model, shrink (the search's chosen
 * model), export every model to
 * {@code <recipe folder>/models/NAME/model.onnx} (the serving layout), bench them and write the Pareto report. Each
 * stage's runs are ledger rows linked to their parents; the recipe's folder is {@code recipe2-<hash>}
 * ({@link Recipes#hash(Recipe)}). Finished work is reused by the one rule every stage follows (its run folder holds its
 * outcome): training, distillation, pruning, quantization and export, so a killed run continues where it stopped.
 * Only the benchmark runs every time: it measures this machine now.
 */
public final class RecipeRunner {
    private final StageEnvironment env;

    public RecipeRunner(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor) {
        this.env = new StageEnvironment(workspace, locator, monitor);
    }

    /** One model the recipe produced: its name in the models folder, how it was made, where it came from. */
    public record Variant(String name, String kind, String source) {
    }

    /** What the run produced: the recipe's folder, the models, their benchmarks, and the report page. */
    public record Outcome(String hash, Path folder, Path models, List<Variant> variants, List<BenchmarkResult> bench,
                          Path report) {
        public String format() {
            StringBuilder out = new StringBuilder();
            if (!bench.isEmpty()) {
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[]{"MODEL", "MADE BY", "TEST ACC", "FILE", "ZIPPED", "NON-ZERO PARAMS", "P50 BATCH 1",
                        "BATCH 256/S"});
                Map<String, String> kinds = new LinkedHashMap<>();
                for (Variant v : variants) kinds.put(v.name(), v.kind());
                for (BenchmarkResult b : bench) {
                    rows.add(new String[]{b.name(), kinds.getOrDefault(b.name(), ""),
                            b.accuracy() == null ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * b.accuracy()),
                            String.format(Locale.ROOT, "%,.1f KB", b.fileBytes() / 1024.0),
                            String.format(Locale.ROOT, "%,.1f KB", b.zippedBytes() / 1024.0),
                            String.format(Locale.ROOT, "%,d", b.nonZeroParameters()),
                            String.format(Locale.ROOT, "%.1f us", b.latencyP50Micros()),
                            b.throughputBatch256() == null ? "-" : String.format(Locale.ROOT, "%,.0f", b.throughputBatch256())});
                }
                out.append(FixedWidthTable.format(rows, new boolean[]{false, false, true, true, true, true, true, true}))
                        .append(System.lineSeparator());
            }
            out.append("recipe  ").append(hash).append(System.lineSeparator());
            out.append("models  ").append(models).append(System.lineSeparator());
            if (report != null) out.append("report  ").append(report.resolve("index.html")).append(System.lineSeparator());
            return out.toString();
        }
    }

    public Outcome run(Recipe recipe, Path dataDirOverride) {
        String hash = Recipes.hash(recipe);
        Path folder = env.workspace().runsRoot().resolve(Recipes.FOLDER_PREFIX + hash);
        Path models = folder.resolve("models");
        Path dataDir = dataDirOverride != null ? dataDirOverride : recipe.data() == null ? null : Path.of(recipe.data());
        try {
            Files.createDirectories(models);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + models + ": " + e.getMessage(), e);
        }
        AtomicFiles.writeString(folder.resolve("recipe.yaml"), RecipePrinter.yaml(recipe));
        env.monitor().message("recipe " + recipe.name() + " (" + hash + "): artifacts in " + folder);

        // train, or start from a model
        String base;
        List<Variant> floats = new ArrayList<>();
        TrainParams trainParams = recipe.train();
        if (recipe.from() != null) {
            if (recipe.enabled("distill") || recipe.enabled("prune") || recipe.enabled("shrink")) {
                boolean shrink = recipe.enabled("shrink");
                throw new BadInputException("train.from starts from a finished model, but "
                        + (shrink ? "distill, prune and shrink retrain" : "distill and prune retrain") + " its "
                        + "architecture from a squeeze training run; set " + (shrink
                        ? "distill: false, prune: false and shrink: false" : "distill: false and prune: false")
                        + " (quantize, export, bench and serve work from any model)");
            }
            String fromRef = recipe.from();
            Path fromFile = Path.of(fromRef);
            if (Files.isRegularFile(fromFile) && !ModelFile.hasInfo(fromFile)) {
                Path imported = folder.resolve("imported").resolve("model.zip");
                env.monitor().message("importing the DL4J model " + fromFile + " for " + recipe.dataset() + " (raw inputs, no "
                        + "normalization) into " + imported);
                ModelImport.importDl4j(fromFile, trainParams.openDataset(dataDir, env.locator(), env.monitor()::message),
                        trainParams.dataset(), trainParams.tableOptions(), imported);
                fromRef = imported.toString();
            }
            ModelSource from = ModelSource.resolve(fromRef, env.workspace(), "start from");
            base = from.run() != null ? from.run().id() : from.file().toAbsolutePath().toString();
            floats.add(new Variant("model", "float: given", base));
        } else {
            if (recipe.enabled("doctor")) doctor(trainParams, dataDir);
            env.monitor().message("stage train: " + trainParams.model());
            TrainOutcome trained = new TrainingService(env).train(trainParams, dataDir, false);
            base = trained.run().id();
            floats.add(new Variant(trainParams.model(), "float: train", base));
        }
        if (recipe.enabled("distill")) {
            TrainParams student = recipe.distillStudent();
            DistillParams settings = recipe.distillSettings();
            env.monitor().message("stage distill: " + student.model() + " from " + base);
            DistillOutcome out = new DistillService(env.workspace(), env.locator(), env.monitor()).distill(List.of(base),
                    student, List.of(settings.temperature()), settings.alpha(), dataDir);
            floats.add(new Variant(student.model() + "-distilled", "float: distill", out.best().runId()));
        }
        if (recipe.enabled("prune")) {
            PruneParams p = recipe.prune();
            env.monitor().message("stage prune: " + p.levels() + " levels at rate " + p.rate());
            PruneOutcome out = new PruneService(env.workspace(), env.locator(), env.monitor()).prune(p, base, dataDir);
            floats.add(new Variant("ticket", "float: prune x" + p.levels(), out.ticket().toAbsolutePath().toString()));
        }

        List<Variant> variants = new ArrayList<>(floats);
        if (recipe.enabled("quantize")) {
            QuantParams params = recipe.quantize();
            for (Variant f : floats) {
                env.monitor().message("stage quantize: " + f.name());
                QuantizeOutcome out = new QuantizeService(env.workspace(), env.locator(), env.monitor()).quantize(f.source(), params, dataDir);
                if (!out.budgetMet()) env.monitor().message("  " + f.name() + ": the accuracy budget was not met; the closest is kept");
                variants.add(new Variant(f.name() + "-int8", "int8: quantize of " + f.kind().replace("float: ", ""), out.model()));
            }
        }

        if (recipe.enabled("shrink")) {
            ShrinkParams params = recipe.shrink();
            env.monitor().message("stage shrink: from " + base + ", within " + RecipeSchema.number(params.budget())
                    + " points");
            ShrinkOutcome out = new ShrinkService(env.workspace(), env.locator(), env.monitor()).shrink(params, base, null,
                    recipe.bench(), dataDir);
            Candidate chosen = out.chosenCandidate();
            if (chosen == null) {
                env.monitor().message("  shrink: no candidate is within the budget; nothing added (search " + out.searchId()
                        + ")");
            } else {
                variants.add(new Variant("shrunk", "shrink: " + chosen.describe(), chosen.modelRun()));
            }
        }

        if (recipe.enabled("export")) {
            ExportService export = new ExportService(env.workspace(), env.locator(), env.monitor());
            for (Variant v : variants) {
                // An export done before is reused by its stage and only copied into the models folder again.
                env.monitor().message("stage export: " + v.name());
                export.export(v.source(), models.resolve(v.name()).resolve("model.onnx"), recipe.exportSettings(), dataDir);
            }
        }

        List<BenchmarkResult> bench = List.of();
        Path report = null;
        if (recipe.enabled("export") && recipe.enabled("bench")) {
            // A benchmark measures this machine now, so it runs every time, as 'squeeze bench' does; bench.json keeps
            // the latest.
            BenchService service = new BenchService(env.workspace(), env.locator(), env.monitor());
            env.monitor().message("stage bench: " + variants.size() + " models");
            bench = service.bench(BenchService.targets(models), recipe.bench(), recipe.dataset(), dataDir);
            AtomicFiles.writeString(folder.resolve("bench.json"), Json.write(bench));
            report = folder.resolve("report");
            service.report(report);
        }
        return new Outcome(hash, folder, models, variants, bench, report);
    }

    /**
     * The serve stage: starts the model server on the recipe's models folder (the serve section's settings) and, when the
     * recipe benches, queues the server's own benchmark of everything it serves (the dashboard's numbers). The caller
     * waits on the returned server and stops it.
     */
    public static EmbeddedServer serve(Recipe recipe, Outcome outcome) {
        EmbeddedServer server;
        try {
            Map<String, Object> properties = new LinkedHashMap<>(recipe.serve().properties());
            properties.put("squeeze.serve.models", outcome.models().toAbsolutePath().toString());
            server = SqueezeServer.start(properties);
        } catch (PortInUseException e) {
            String key = "serve." + e.setting().replace('-', '_');
            throw new BadInputException(e.getMessage() + ": stop what is listening there, or pick another port with "
                    + key + " (--set " + key + "=N; 0 picks a free one); the models are in " + outcome.models(), e);
        }
        if (recipe.enabled("bench")) SqueezeServer.benchmarkAll(server, recipe.bench());
        return server;
    }

    private void doctor(TrainParams params, Path dataDir) {
        env.monitor().message("stage doctor: " + params.model() + " on " + params.dataset());
        DoctorReport report = new Doctor(env.workspace(), env.locator(), env.monitor()::message).examine(params, dataDir);
        if (report.failed()) {
            throw new BadInputException("doctor found problems before training (" + report.count(dev.squeeze.compress.doctor.Verdict.FAIL)
                    + " failed checks); run 'squeeze doctor --model " + params.model() + "' for the details, fix them, "
                    + "or set doctor: false");
        }
    }
}
