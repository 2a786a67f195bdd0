package dev.squeeze.compress.train;

import dev.squeeze.models.core.AtomicFiles;
import dev.squeeze.compress.artifacts.CodeVersion;
import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.artifacts.RunLock;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.eval.Evaluation;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.eval.ModelSize;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunLedger;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunResult;
import dev.squeeze.compress.ledger.RunStatus;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.zoo.ModelZoo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code squeeze train} as a service: names the run by its configuration hash, reuses an identical
 * finished run or resumes an interrupted one, records the run in the ledger, trains, and evaluates the
 * best checkpoint on the test set once.
 */
public final class TrainingService {
    public static final String STAGE = "train";

    private final Workspace workspace;
    private final DatasetLocator locator;
    private final TrainingMonitor monitor;
    private final String sweepId;

    public TrainingService(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor) {
        this(workspace, locator, monitor, null);
    }

    private TrainingService(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor, String sweepId) {
        this.workspace = workspace;
        this.locator = locator;
        this.monitor = monitor;
        this.sweepId = sweepId;
    }

    /**
     * This service as a trial of sweep {@code id}: the runs it records carry the sweep id, and a finished run it
     * reuses joins the sweep unless it already belongs to one ({@link RunLedger#tagSweep}).
     */
    public TrainingService withSweep(String id) {
        return new TrainingService(workspace, locator, monitor, id);
    }

    /**
     * @param dataDir where the dataset's files are, or null to locate them
     * @param force   train again even when an identical configuration has finished
     */
    public TrainOutcome train(TrainParams params, Path dataDir, boolean force) {
        // Bad names and an unwritable output fail here, before any data is read.
        ModelZoo.get(params.model());
        Datasets.check(params.dataset(), dataDir);
        ConfigHash hash = ConfigHash.of(params, TrainParams.HASH_BASE);
        RunPaths paths = RunPaths.of(workspace.runsRoot(), STAGE, hash.value());
        RunPaths.requireWritable(workspace.runsRoot());

        try (RunLock lock = RunLock.acquire(paths);
             RunLedger ledger = workspace.openLedger()) {
            // Hashes of different stages' settings may coincide; the stage tells them apart.
            Optional<RunRecord> previous = ledger.latestByHash(hash.value()).filter(r -> STAGE.equals(r.stage()));
            if (previous.isPresent() && previous.get().status() == RunStatus.DONE && Files.isRegularFile(paths.model())) {
                if (!force) return new TrainOutcome(joinSweep(ledger, previous.get()), paths, null, true);
            }
            if (force) deleteCheckpoints(paths);

            var data = TrainingData.prepare(Datasets.open(params.dataset(), dataDir, locator, params.tableOptions(),
                    monitor::message), params.validationFraction());
            NewRun newRun = NewRun.of(STAGE, params.model(), data.dataset(), hash)
                    .withCodeCommit(CodeVersion.commit())
                    .withArtifactDir(paths.dir().toString())
                    .withSweep(sweepId);
            if (Files.isRegularFile(paths.resumeCheckpoint()) && previous.isPresent()) {
                // The previous row was interrupted, failed or killed (opening the ledger marked it): link it.
                newRun = newRun.withResumes(previous.get().id()).withNotes("resumes run " + previous.get().id()
                        + " (" + previous.get().status().text() + ")");
            }
            var recorded = RecordedRun.record(ledger, newRun, "interrupted; the same command resumes after the last finished epoch",
                    run -> {
                        AtomicFiles.writeString(paths.config(), hash.configJson());
                        monitor.message("run " + run.id() + ": training " + params.model() + " on " + params.dataset()
                                + " (" + data.train().size() + " train / " + data.validation().size() + " validation / "
                                + data.test().size() + " test), artifacts in " + paths.dir());
                        ModelInfo info = new ModelInfo(params.model(), params.dataset(), params.tableOptions(),
                                data.inputShape(), data.classNames(), data.normalization(), hash.value(), run.id(), 0,
                                Double.NaN);
                        TrainingResult result = new Trainer(monitor).trainAndRefit(params, data, paths, info);
                        ModelFile.Loaded best = ModelFile.load(paths.model(), false);
                        Evaluation test = Evaluator.evaluate(best.network(), data.test(), data.classNames());
                        ModelSize size = ModelSize.of(best.network(), paths.model());
                        // The watch's warnings belong in the experiment table beside the numbers they qualify.
                        for (String warning : result.warnings()) ledger.addNote(run.id(), warning);
                        RunResult measured = RunResult.of(result.trainAccuracyAtBest(), result.bestValidationAccuracy(),
                                test.accuracy()).withSizes(size.params(), size.nonzeroParams(), size.fileBytes());
                        return new RecordedRun.Finished<>(measured, result);
                    });
            return new TrainOutcome(recorded.run(), paths, recorded.value(), false);
        }
    }

    /** {@code run}, tagged with this service's sweep when it has one and the run belongs to no sweep yet. */
    private RunRecord joinSweep(RunLedger ledger, RunRecord run) {
        if (sweepId == null || run.sweepId() != null) return run;
        ledger.tagSweep(run.id(), sweepId);
        return ledger.get(run.id()).orElseThrow();
    }

    private static void deleteCheckpoints(RunPaths paths) {
        try {
            Files.deleteIfExists(paths.resumeCheckpoint());
            Files.deleteIfExists(paths.model());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear " + paths.dir() + " for --force: " + e.getMessage(), e);
        }
    }

}
