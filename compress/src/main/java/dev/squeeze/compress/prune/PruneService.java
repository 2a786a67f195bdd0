package dev.squeeze.compress.prune;

import dev.squeeze.core.AtomicFiles;
import dev.squeeze.compress.artifacts.CodeVersion;
import dev.squeeze.compress.artifacts.Json;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.train.TrainedRun;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.eval.Evaluation;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.eval.ModelSize;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunResult;
import dev.squeeze.compress.stage.OutcomeFile;
import dev.squeeze.compress.report.LineChart;
import dev.squeeze.compress.artifacts.RewindPoint;
import dev.squeeze.compress.train.TrainParams;
import dev.squeeze.compress.train.Trainer;
import dev.squeeze.compress.train.TrainingData;
import dev.squeeze.compress.train.TrainingHooks;
import dev.squeeze.compress.train.StageEnvironment;
import dev.squeeze.compress.train.TrainingMonitor;
import dev.squeeze.compress.train.TrainingResult;
import dev.squeeze.compress.train.TrainingService;
import dev.squeeze.core.BadInputException;
import dev.squeeze.models.data.Dataset;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.compress.distill.DistillParams;
import dev.squeeze.compress.distill.SoftTargets;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import dev.squeeze.models.zoo.Network;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * {@code squeeze prune}: iterative magnitude pruning with rewinding. Each level prunes the smallest surviving
 * weights of the previous level's trained network, rewinds the survivors (and the optimizer state) to the
 * rewind point, and retrains with the mask enforced after every step. Each level is saved atomically as it
 * completes, so the same command after a kill continues from the last complete level.
 */
public final class PruneService {
    public static final String STAGE = "prune";
    public static final String CONTROL_STAGE = "prune-control";
    /** Seeds of the re-initialisation control: far from the training seed, different per level. */
    static final long REINIT_SEED_OFFSET = 1_000_003L;
    /** What marked a complete level before levels had outcome files; still read, then adopted. */
    static final String LEGACY_LEVEL_FILE = "level.json";

    private final StageEnvironment env;

    public PruneService(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor) {
        this.env = new StageEnvironment(workspace, locator, monitor);
    }

    /**
     * @param from    a training run id (or unique prefix) or the path of its model file
     * @param dataDir where the dataset's files are, or null to locate them
     */
    public PruneOutcome prune(PruneParams requested, String from, Path dataDir) {
        return prune(requested, from, dataDir, level -> true);
    }

    /**
     * Whether a search goes deeper after a finished (or reused) level: {@code squeeze shrink} stops once a level's
     * models are over its accuracy budget, since deeper levels only lose more.
     */
    @FunctionalInterface
    public interface LevelGate {
        boolean deeper(LevelResult finished);
    }

    /**
     * {@link #prune(PruneParams, String, Path)}, asking {@code gate} after each level but the last whether to go on.
     * A search the gate stops is not complete: it writes no ticket, report or outcome file, and its outcome holds the
     * levels done, {@code ticket} the last one's model. Its levels are kept as every level is, so the same call finds
     * them again and asks the gate again.
     */
    public PruneOutcome prune(PruneParams requested, String from, Path dataDir, LevelGate gate) {
        TrainingMonitor monitor = env.monitor();
        DatasetLocator locator = env.locator();
        long started = System.nanoTime();
        RunPaths.requireWritable(env.workspace().runsRoot());
        TrainedRun named = TrainedRun.resolve(from, env.workspace(), TrainingService.STAGE);
        RewindPoint rewind = RewindPoint.parse(requested.rewindTo());
        TrainedRun source = Files.isRegularFile(named.paths().snapshot(rewind)) ? named
                : trainWithSnapshot(named, rewind, dataDir);
        PruneParams params = requested.withSource(source.run().configHash());
        // The search's folder is named and locked like every stage's; each level records its own rows and is done
        // when its folder holds its outcome file.
        return env.runner().inRunFolder(STAGE, params, PruneParams.DEFAULTS, (search, config, ledger) -> {
                String hash = config.value();
                // The one rule for done, for the search as a whole too: its folder holds its outcome.
                Optional<OutcomeFile.Stored<PruneOutcome>> finished = OutcomeFile.read(search, PruneOutcome.class);
                if (finished.isPresent() && Files.isRegularFile(finished.get().outcome().ticket())) {
                    monitor.message("search " + hash + " already complete: its levels, ticket and report are in " + search.dir());
                    return finished.get().outcome();
                }
                TrainParams train = source.params().withSnapshot(null);
                Dataset dataset = train.openDataset(dataDir, locator, monitor::message);
                TrainingData data = TrainingData.prepare(dataset, train.validationFraction());
                int steps = (data.train().size() + train.batch() - 1) / train.batch();
                ModelFile.Loaded dense = ModelFile.load(source.paths().model(), false);
                float[] softTargets = null;
                if (params.teacher() == PruneTeacher.DENSE) {
                    monitor.message("the dense model's soft targets for " + data.train().size()
                            + " training examples, computed once: every level learns from them and the labels");
                    softTargets = SoftTargets.of(dense, dataset, train.validationFraction(), DistillParams.DEFAULT_TEMPERATURE);
                }
                AtomicFiles.writeString(search.config(), config.configJson());
                LevelResult denseResult = new LevelResult(0, "dense", source.run().id(), Mask.dense(dense.network()).fractions(),
                        source.run().testAcc(), source.run().valAcc(), (long) dense.info().epoch() * steps,
                        source.run().endedAt() == null ? Double.NaN
                                : java.time.Duration.between(source.run().startedAt(), source.run().endedAt()).toMillis() / 1e3,
                        source.run().params(), source.run().nonzeroParams(), source.run().fileBytes());
                monitor.message(String.format(Locale.ROOT, "search %s: %d levels from run %s (dense test %.2f%%), rewind to %s",
                        hash, params.levels(), source.run().id(), 100 * denseResult.testAccuracy(), rewind.label()));

                Level level = new Level(this, ledger, params, train, data, source, hash, steps, softTargets);
                Mask mask = Mask.dense(dense.network());
                Mask randomMask = mask;
                Network trained = dense.network();
                String parent = source.run().id();
                List<LevelResult> tickets = new ArrayList<>();
                List<LevelResult> controls = new ArrayList<>();
                Network rewoundShape = params.structure() == Structure.NONE ? null
                        : ModelFile.load(source.paths().snapshot(rewind), true).network();
                for (int l = 1; l <= params.levels(); l++) {
                    if (l > 1 && !gate.deeper(tickets.get(tickets.size() - 1))) {
                        // Stopped by the caller: the levels done stand; the search is not complete.
                        return new PruneOutcome(hash, params, denseResult, List.copyOf(tickets), List.copyOf(controls),
                                new RunPaths(search.dir().resolve("level-" + (l - 1))).model(), null, null,
                                (System.nanoTime() - started) / 1e9);
                    }
                    Path dir = search.dir().resolve("level-" + l);
                    RunPaths levelPaths = new RunPaths(dir);
                    Optional<Completed> done = completed(levelPaths);
                    if (params.structure().structured()) {
                        LevelResult ticket;
                        if (done.isPresent()) {
                            ticket = done.get().ticket();
                            monitor.message("level " + l + " already complete (run " + ticket.runId() + ")");
                        } else {
                            // Select on the trained network, cut the rewound one the same way: the survivors rewound.
                            // A graph loses channels together wherever a residual Add ties them (GraphChannelPruning).
                            StructuredPruning.Cut cut = StructuredPruning.cut(trained, rewoundShape, params.rate(),
                                    params.structure());
                            Network start = cut.network();
                            if (rewind.iteration(steps) > 0) setIterationCount(start, (int) rewind.iteration(steps));
                            ModelFile.save(dir.resolve("rewound.zip"), start, dense.info(), true, null);
                            Map<String, Double> remaining = sizeRelativeTo(start, dense.network());
                            monitor.message(String.format(Locale.ROOT, "level %d/%d: %s, %.1f%% of weights remain", l,
                                    params.levels(), cut.kept(), 100 * remaining.get("total")));
                            ticket = level.train(l, "ticket", dir, parent, remaining,
                                    () -> ModelFile.load(dir.resolve("rewound.zip"), true).network(), net -> { });
                            OutcomeFile.write(levelPaths, STAGE, ticket.runId(), new Completed(ticket, null));
                        }
                        tickets.add(ticket);
                        rewoundShape = ModelFile.load(dir.resolve("rewound.zip"), true).network();
                        trained = ModelFile.load(new RunPaths(dir).model(), false).network();
                        parent = ticket.runId();
                        continue;
                    }
                    Mask previous = mask;
                    if (done.isPresent()) {
                        Completed completed = done.get();
                        mask = Mask.load(dir.resolve("mask.bin"));
                        if (params.control() == PruneControl.RANDOM) randomMask = Mask.load(dir.resolve("random-mask.bin"));
                        trained = ModelFile.load(new RunPaths(dir).model(), false).network();
                        tickets.add(completed.ticket());
                        if (completed.control() != null) controls.add(completed.control());
                        parent = completed.ticket().runId();
                        monitor.message("level " + l + " already complete (run " + parent + ")");
                        continue;
                    }
                    mask = MagnitudePruning.prune(mask, trained, params.rate(), params.scope());
                    if (!mask.isSubsetOf(previous)) throw new IllegalStateException("a pruning mask grew");
                    mask.save(dir.resolve("mask.bin"));
                    Mask levelMask = mask;
                    monitor.message(String.format(Locale.ROOT, "level %d/%d: %.1f%% of weights remain", l, params.levels(),
                            100 * mask.totalFraction()));
                    LevelResult ticket = level.train(l, "ticket", dir, parent, levelMask, () -> rewound(source.paths().snapshot(rewind), levelMask));
                    LevelResult control = null;
                    if (params.control() == PruneControl.REINIT) {
                        long seed = train.seed() + REINIT_SEED_OFFSET * l;
                        control = level.train(l, "reinit", dir.resolve("reinit"), ticket.runId(), levelMask, () -> {
                            Network fresh = Trainer.newNetwork(train.withSeed(seed), data);
                            levelMask.applyTo(fresh);
                            return fresh;
                        });
                    } else if (params.control() == PruneControl.RANDOM) {
                        randomMask = MagnitudePruning.randomLike(randomMask, levelMask, train.seed() + l);
                        randomMask.save(dir.resolve("random-mask.bin"));
                        Mask random = randomMask;
                        control = level.train(l, "random", dir.resolve("random"), ticket.runId(), random,
                                () -> rewound(source.paths().snapshot(rewind), random));
                    }
                    // Written last: a level without it is redone after a kill, from its own resume checkpoint.
                    OutcomeFile.write(levelPaths, STAGE, ticket.runId(), new Completed(ticket, control));
                    tickets.add(ticket);
                    if (control != null) controls.add(control);
                    trained = ModelFile.load(new RunPaths(dir).model(), false).network();
                    parent = ticket.runId();
                }

                // What is exported is the last level's trained ticket, never the dense or the rewound network.
                Path ticketFile = search.dir().resolve("ticket.zip");
                Path last = new RunPaths(search.dir().resolve("level-" + params.levels())).model();
                AtomicFiles.copy(last, ticketFile);
                Path plot = search.dir().resolve("tickets.png");
                Path table = search.dir().resolve("tickets.csv");
                writeReport(denseResult, tickets, controls, params, plot, table);
                PruneOutcome outcome = new PruneOutcome(hash, params, denseResult, List.copyOf(tickets),
                        List.copyOf(controls), ticketFile, plot, table, (System.nanoTime() - started) / 1e9);
                OutcomeFile.write(search, STAGE, tickets.get(tickets.size() - 1).runId(), outcome); // written last
                return outcome;
        });
    }

    /** Per weight parameter and in total, {@code net}'s parameter count relative to {@code dense}'s. */
    static Map<String, Double> sizeRelativeTo(Network net, Network dense) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String key : Mask.prunableParams(dense)) {
            out.put(key, (double) net.getParam(key).length() / dense.getParam(key).length());
        }
        out.put("total", (double) net.numParams() / dense.numParams());
        return out;
    }

    /**
     * Layer widths: from input to output for a layer stack ({@code 784-240-80-10}); for a graph, each convolution's and
     * dense layer's name and output width in computing order ({@code stem 2, s1_conv1 2, ..., output 10}).
     */
    static String widths(Network net) {
        if (net.isGraph()) {
            return net.layers().stream().filter(l -> l.config() instanceof FeedForwardLayer
                            && !(l.config() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization))
                    .map(l -> l.name() + " " + ((FeedForwardLayer) l.config()).getNOut())
                    .collect(java.util.stream.Collectors.joining(", "));
        }
        StringBuilder out = new StringBuilder();
        for (Network.NamedLayer l : net.layers()) {
            if (l.config() instanceof FeedForwardLayer f) {
                if (out.length() == 0) out.append(f.getNIn());
                out.append('-').append(f.getNOut());
            }
        }
        return out.toString();
    }

    /** Where the optimizer's step count resumes (Adam's bias correction), as at the late-rewinding point. */
    private static void setIterationCount(Network net, int iteration) {
        if (net instanceof Network.Stack s) s.net().setIterationCount(iteration);
        else ((Network.Graph) net).graph().getConfiguration().setIterationCount(iteration);
    }

    /** A level's saved results; its presence marks the level complete. */
    record Completed(LevelResult ticket, LevelResult control) {
    }

    /** The surviving weights and the optimizer state as they were at the rewind point, pruned by {@code mask}. */
    static Network rewound(Path snapshot, Mask mask) {
        Network net = ModelFile.load(snapshot, true).network();
        mask.applyTo(net);
        return net;
    }

    /** Trains one level's network (ticket or control) with the mask enforced, records it in the ledger. */
    private record Level(PruneService service, RunLedger ledger, PruneParams params, TrainParams train, TrainingData data,
                         TrainedRun source, String hash, int steps, float[] softTargets) {

        LevelResult train(int level, String kind, Path dir, String parent, Mask mask, Supplier<Network> start) {
            return train(level, kind, dir, parent, mask.fractions(), start, mask::applyTo);
        }

        /**
         * @param remaining per layer and in total, the share of the dense network's weights this network keeps
         * @param afterStep what keeps it pruned after every optimizer step (nothing for a structurally smaller net)
         */
        LevelResult train(int level, String kind, Path dir, String parent, Map<String, Double> remaining,
                          Supplier<Network> start, java.util.function.Consumer<Network> afterStep) {
            long begin = System.nanoTime();
            boolean control = !kind.equals("ticket");
            String what = params.structure() == Structure.NONE ? "lottery ticket"
                    : "structured (" + params.structure().cliName() + ")";
            String note = String.format(Locale.ROOT, "%s level %d/%d: %.1f%% of weights remain; rewind to %s%s%s",
                    control ? kind + " control of" : what, level, params.levels(), 100 * remaining.get("total"),
                    params.rewindTo(), control && kind.equals("reinit") ? " (fresh random init)" : "",
                    softTargets == null ? "" : "; learns from the dense model's soft targets");
            NewRun newRun = NewRun.of(control ? CONTROL_STAGE : STAGE, train.model(), data.dataset(), null)
                    .withParent(parent).withCodeCommit(CodeVersion.commit()).withArtifactDir(dir.toString())
                    .withNotes(note);
            return RecordedRun.record(ledger, newRun, "interrupted; the same prune command continues from the last "
                    + "complete level", run -> {
                service.env.monitor().message("  " + note + " (run " + run.id() + ")");
                RunPaths paths = new RunPaths(dir);
                ModelInfo info = new ModelInfo(train.model(), train.dataset(), train.tableOptions(), data.inputShape(),
                        data.classNames(), data.normalization(), hash, run.id(), 0, Double.NaN);
                Supplier<Network> starting = softTargets == null ? start : () -> SoftTargets.learning(start.get(),
                        DistillParams.DEFAULT_ALPHA, DistillParams.DEFAULT_TEMPERATURE);
                TrainingResult result = new Trainer(service.env.monitor()).train(train, data, paths, info,
                        new TrainingHooks(starting, afterStep, false, softTargets));
                Network best = (softTargets == null ? ModelFile.load(paths.model(), false)
                        : SoftTargets.asPlainClassifier(paths.model())).network();
                Evaluation test = Evaluator.evaluate(best, data.test(), data.classNames());
                ModelSize size = ModelSize.of(best, paths.model());
                double seconds = (System.nanoTime() - begin) / 1e9;
                long earlyStop = (long) result.bestEpoch() * steps;
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("level", level);
                details.put("kind", kind);
                details.put("remaining", remaining);
                details.put("early_stop_iteration", earlyStop);
                details.put("seconds", Math.round(seconds * 10) / 10.0);
                details.put("rewind_to", params.rewindTo());
                if (softTargets != null) details.put("teacher", "dense");
                if (params.structure().structured()) details.put("widths", widths(best));
                RunResult measured = RunResult.of(result.trainAccuracyAtBest(), result.bestValidationAccuracy(),
                        test.accuracy()).withSizes(size.params(), size.nonzeroParams(), size.fileBytes())
                        .withDetails(Json.writeCompact(details));
                return new RecordedRun.Finished<>(measured, new LevelResult(level, kind, run.id(), remaining,
                        test.accuracy(), result.bestValidationAccuracy(), earlyStop, seconds, size.params(),
                        size.nonzeroParams(), size.fileBytes()));
            }).value();
        }
    }

    /**
     * The dense run again with a snapshot at the rewind point: same settings and seed, so the same weights
     * (training is deterministic), plus the weights at iteration k that late rewinding needs. Reused when it
     * already exists.
     */
    private TrainedRun trainWithSnapshot(TrainedRun source, RewindPoint rewind, Path dataDir) {
        if (rewind.equals(RewindPoint.INIT)) {
            throw new BadInputException("run " + source.run().id() + " has no saved initialisation (" + source.paths()
                    .snapshot(rewind) + "); train it again with this version of squeeze (--force)");
        }
        env.monitor().message("run " + source.run().id() + " has no weights saved at " + rewind.label()
                + "; training the dense network again with --snapshot " + rewind.label());
        var outcome = new TrainingService(env).train(source.params().withSnapshot(rewind.label()),
                dataDir, false);
        return new TrainedRun(source.params().withSnapshot(rewind.label()), outcome.run(), outcome.paths());
    }

    /**
     * The level in {@code level} when it is complete: its folder holds its outcome file. A level completed by a Squeeze
     * that wrote {@code level.json} instead is adopted: its outcome file is written from it, once.
     */
    private static Optional<Completed> completed(RunPaths level) {
        Optional<OutcomeFile.Stored<Completed>> stored = OutcomeFile.read(level, Completed.class);
        if (stored.isPresent()) return Optional.of(stored.get().outcome());
        Path legacy = level.dir().resolve(LEGACY_LEVEL_FILE);
        if (!Files.isRegularFile(legacy)) return Optional.empty();
        try {
            Completed completed = Json.read(Files.readString(legacy), Completed.class);
            OutcomeFile.write(level, STAGE, completed.ticket().runId(), completed);
            return Optional.of(completed);
        } catch (IOException e) {
            throw new UncheckedIOException("unreadable level record " + legacy + ": " + e.getMessage(), e);
        }
    }

    /** tickets.csv and tickets.png: test accuracy and early-stop iteration against weights remaining. */
    private static void writeReport(LevelResult dense, List<LevelResult> tickets, List<LevelResult> controls,
                                    PruneParams params, Path plot, Path table) {
        StringBuilder csv = new StringBuilder("level,kind,weights_remaining,test_acc,early_stop_iteration,seconds,run\n");
        List<LevelResult> all = new ArrayList<>();
        all.add(dense);
        all.addAll(tickets);
        all.addAll(controls);
        for (LevelResult r : all) {
            csv.append(String.format(Locale.ROOT, "%d,%s,%.6f,%.6f,%d,%.1f,%s%n", r.level(), r.kind(), r.totalRemaining(),
                    r.testAccuracy(), r.earlyStopIteration(), r.seconds(), r.runId()));
        }
        AtomicFiles.writeString(table, csv.toString());

        Map<String, double[][]> accuracy = new LinkedHashMap<>();
        accuracy.put("ticket (rewind to " + params.rewindTo() + ")", series(dense, tickets, true));
        if (!controls.isEmpty()) {
            accuracy.put(params.control().name().toLowerCase(Locale.ROOT) + " control", series(null, controls, true));
        }
        double[] xs = new double[tickets.size() + 1];
        xs[0] = 100;
        for (int i = 0; i < tickets.size(); i++) xs[i + 1] = 100 * tickets.get(i).totalRemaining();
        double[] flat = new double[xs.length];
        java.util.Arrays.fill(flat, 100 * dense.testAccuracy());
        accuracy.put("dense", new double[][]{xs, flat});
        LineChart.save(plot, "test accuracy against weights remaining", "% of weights remaining (log)", "test accuracy %",
                true, accuracy, true);
        Map<String, double[][]> iterations = new LinkedHashMap<>();
        iterations.put("ticket", series(dense, tickets, false));
        if (!controls.isEmpty()) iterations.put(params.control().name().toLowerCase(Locale.ROOT) + " control", series(null, controls, false));
        LineChart.save(plot.resolveSibling("early-stop.png"), "early-stop iteration against weights remaining",
                "% of weights remaining (log)", "early-stop iteration", true, iterations, true);
    }

    private static double[][] series(LevelResult first, List<LevelResult> rest, boolean accuracy) {
        List<LevelResult> points = new ArrayList<>();
        if (first != null) points.add(first);
        points.addAll(rest);
        double[] x = new double[points.size()];
        double[] y = new double[points.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = 100 * points.get(i).totalRemaining();
            y[i] = accuracy ? 100 * points.get(i).testAccuracy() : points.get(i).earlyStopIteration();
        }
        return new double[][]{x, y};
    }
}
