package dev.squeeze.compress.train;

import dev.squeeze.compress.artifacts.ModelFile;
import dev.squeeze.compress.artifacts.ModelInfo;
import dev.squeeze.compress.artifacts.RunPaths;
import dev.squeeze.compress.runs.Workspace;
import dev.squeeze.compress.eval.Evaluation;
import dev.squeeze.compress.eval.Evaluator;
import dev.squeeze.compress.eval.ModelSize;
import dev.squeeze.compress.ledger.ConfigHash;
import dev.squeeze.compress.ledger.NewRun;
import dev.squeeze.compress.ledger.RecordedRun;
import dev.squeeze.compress.ledger.RunRecord;
import dev.squeeze.compress.ledger.RunResult;
import dev.squeeze.compress.stage.Stage;
import dev.squeeze.compress.stage.StageResult;
import dev.squeeze.compress.stage.StageRun;
import dev.squeeze.compress.stage.StageRunner;
import dev.squeeze.models.data.DatasetLocator;
import dev.squeeze.models.data.Datasets;
import dev.squeeze.models.zoo.ModelZoo;

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

    private final StageEnvironment env;
    private final StageRunner runner;

    public TrainingService(Workspace workspace, DatasetLocator locator, TrainingMonitor monitor) {
        this(new StageEnvironment(workspace, locator, monitor), null);
    }

    /** The train stage for another stage's service (distill's student alone, ensemble members, pruning's dense run). */
    public TrainingService(StageEnvironment env) {
        this(env, null);
    }

    private TrainingService(StageEnvironment env, String sweepId) {
        this.env = env;
        this.runner = env.runner().inSweep(sweepId);
    }

    /**
     * This service as a trial of sweep {@code id}: the runs it records carry the sweep id, and a finished run it
     * reuses joins the sweep unless it already belongs to one ({@link dev.squeeze.compress.ledger.RunLedger#tagSweep}).
     */
    public TrainingService withSweep(String id) {
        return new TrainingService(env, id);
    }

    /**
     * @param dataDir where the dataset's files are, or null to locate them
     * @param force   train again even when an identical configuration has finished
     */
    public TrainOutcome train(TrainParams params, Path dataDir, boolean force) {
        // Bad names and an unwritable output fail here, before any data is read.
        ModelZoo.get(params.model());
        Datasets.check(params.dataset(), dataDir);
        params.imageOptions();
        StageResult<Trained> done = runner.forced(force).run(new Train(dataDir), params);
        TrainingResult training = done.reused() ? null : done.outcome().training();
        return new TrainOutcome(done.run(), done.paths(), training, done.reused());
    }

    /**
     * What a training run leaves in its outcome file.
     *
     * @param training how it went; null for a run adopted from a ledger written before outcome files
     */
    public record Trained(String model, TrainingResult training) {
    }

    /** The train stage: trains, and evaluates the best checkpoint on the test set once. */
    private final class Train implements Stage<TrainParams, Trained> {
        private final Path dataDir;
        private TrainingData data;

        Train(Path dataDir) {
            this.dataDir = dataDir;
        }

        @Override
        public Definition<TrainParams, Trained> definition() {
            return new Definition<>(STAGE, TrainParams.HASH_BASE, Trained.class,
                    "interrupted; the same command resumes after the last finished epoch");
        }

        @Override
        public NewRun row(TrainParams params, ConfigHash hash) {
            data = TrainingData.prepare(params.openDataset(dataDir, env.locator(), env.monitor()::message),
                    params.validationFraction());
            Augmentation.of(params.augment(), data.inputShape(), data.normalization(), data.dataset()); // a table refuses it
            return NewRun.of(STAGE, params.model(), data.dataset(), hash);
        }

        @Override
        public Optional<Trained> adopt(RunRecord finished, RunPaths paths) {
            return Files.isRegularFile(paths.model()) ? Optional.of(new Trained(paths.model().toString(), null))
                    : Optional.empty();
        }

        @Override
        public RecordedRun.Finished<Trained> run(StageRun<TrainParams> run) {
            TrainParams params = run.params();
            RunPaths paths = run.paths();
            env.monitor().message("run " + run.row().id() + ": training " + params.model() + " on " + params.dataset()
                    + " (" + data.train().size() + " train / " + data.validation().size() + " validation / "
                    + data.test().size() + " test), artifacts in " + paths.dir());
            env.monitor().message(params.scheduleLine(data.train().size()));
            ModelInfo info = new ModelInfo(params.model(), params.dataset(), params.tableOptions(),
                    data.inputShape(), data.classNames(), data.normalization(), run.hash().value(), run.row().id(), 0,
                    Double.NaN);
            TrainingResult result = new Trainer(env.monitor()).trainAndRefit(params, data, paths, info);
            ModelFile.Loaded best = ModelFile.load(paths.model(), false);
            Evaluation test = Evaluator.evaluate(best.network(), data.test(), data.classNames());
            ModelSize size = ModelSize.of(best.network(), paths.model());
            // The watch's warnings belong in the experiment table beside the numbers they qualify.
            for (String warning : result.warnings()) run.ledger().addNote(run.row().id(), warning);
            RunResult measured = RunResult.of(result.trainAccuracyAtBest(), result.bestValidationAccuracy(),
                    test.accuracy()).withSizes(size.params(), size.nonzeroParams(), size.fileBytes());
            return new RecordedRun.Finished<>(measured, new Trained(paths.model().toString(), result));
        }
    }
}
